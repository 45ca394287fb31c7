/*-------------------------------------------------------------------------
 *
 * replay.c
 *		Run files through a fuzz harness without libFuzzer: the corpus
 *		replay of "make test" (TAP 003), and a way to rerun one crash.
 *
 *		replay_<target> FILE_OR_DIRECTORY...
 *
 * Each file is one input.  A property violation aborts (as under the
 * fuzzer); otherwise prints how many inputs ran and exits 0.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/fuzz/replay.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long ninputs = 0;

/* Run one file through the harness */
static int
replay_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		return 1;
	}
	/* exactly len bytes, so ASan builds see reads past the input */
	buf = malloc(len ? len : 1);
	if (len > 0 && fread(buf, 1, len, f) != (size_t) len)
	{
		perror(path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	ninputs++;
	return 0;
}

/* A file, or every regular file of a directory */
static int
replay_path(const char *path)
{
	struct stat st;
	DIR		   *dir;
	struct dirent *de;
	int			rc = 0;

	if (stat(path, &st) != 0)
	{
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	if ((dir = opendir(path)) == NULL)
	{
		perror(path);
		return 1;
	}
	while ((de = readdir(dir)) != NULL)
	{
		char		full[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
			rc |= replay_file(full);
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	int			rc = 0;

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s FILE_OR_DIRECTORY...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		rc |= replay_path(argv[i]);
	printf("replayed %ld inputs\n", ninputs);
	return rc;
}
