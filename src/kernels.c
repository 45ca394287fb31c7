/*-------------------------------------------------------------------------
 *
 * kernels.c
 *		The list of kernel tables and run-time CPU detection.
 *
 * The library is built for the baseline instruction set; faster tables are
 * compiled separately with their own flags and only called after the CPU
 * (and, for AVX, the operating system's register saving) says they work.
 * __builtin_cpu_supports checks both.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/kernels.c
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "kernels.h"

/* The table in use; the scalar one until VecBestKernels() is consulted */
const VecKernels *VecActiveKernels = &VecKernelsScalar;

/* Every compiled table, slowest first */
static const VecKernels *const all_kernels[] = {
	&VecKernelsScalar,
#ifdef VEC_HAVE_X86
	&VecKernelsAvx2,
	&VecKernelsAvx512,
#endif
#ifdef VEC_HAVE_NEON
	&VecKernelsNeon,
#endif
};

#define N_KERNELS ((int) (sizeof(all_kernels) / sizeof(all_kernels[0])))

/*
 * Can this CPU run the given table?
 */
static bool
kernel_supported(const VecKernels *k)
{
#ifdef VEC_HAVE_X86
	if (k == &VecKernelsAvx2)
	{
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	}
	if (k == &VecKernelsAvx512)
	{
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f");
	}
#endif
	return true;
}

/*
 * Number of compiled tables
 */
int
VecKernelCount(void)
{
	return N_KERNELS;
}

/*
 * The i-th compiled table (0 = scalar), or NULL past the end
 */
const VecKernels *
VecKernelByIndex(int i, bool *supported)
{
	if (i < 0 || i >= N_KERNELS)
		return NULL;
	if (supported)
		*supported = kernel_supported(all_kernels[i]);
	return all_kernels[i];
}

/*
 * The compiled table with this name (any case), or NULL
 */
const VecKernels *
VecKernelByName(const char *name, bool *supported)
{
	for (int i = 0; i < N_KERNELS; i++)
		if (strcasecmp(all_kernels[i]->name, name) == 0)
			return VecKernelByIndex(i, supported);
	return NULL;
}

/*
 * The fastest table this CPU supports
 */
const VecKernels *
VecBestKernels(void)
{
	for (int i = N_KERNELS - 1; i > 0; i--)
		if (kernel_supported(all_kernels[i]))
			return all_kernels[i];
	return &VecKernelsScalar;
}
