-- copy: text and binary COPY round trips, binary input checks (vector_recv)

-- one server-side file, reused by every step; a relative path lands in the
-- data directory of the throwaway test cluster, so nothing is left behind
SELECT current_setting('data_directory') || '/vecrec_regress_copy.dat' AS file \gset

CREATE TABLE copy_src (id int, v vector(3), w vector);
INSERT INTO copy_src VALUES
  (1, '[1,2,3]', '[1]'),
  (2, '[-0,0.1,1.0000001]', '[1e-45,-1e-45,3.4e38,-3.4e38]'),
  (3, NULL, '[0.333333343,16777216,1e-40]'),
  (4, '[0,0,0]', NULL),
  (5, '[-1.5,2.5e-10,7]', '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]');

-- binary send format: int16 dim, int16 reserved, big-endian float4s
SELECT vector_send('[1,-2.5]');
SELECT vector_send('[-0,1e-45]');

-- binary round trip: same rows, same text (so -0 and denormals survive)
COPY copy_src TO :'file' WITH (FORMAT binary);
CREATE TABLE copy_bin (LIKE copy_src);
COPY copy_bin FROM :'file' WITH (FORMAT binary);
SELECT count(*) FROM copy_bin;
SELECT * FROM copy_src EXCEPT SELECT * FROM copy_bin;
SELECT * FROM copy_bin EXCEPT SELECT * FROM copy_src;
SELECT id, v::text, w::text FROM copy_src EXCEPT SELECT id, v::text, w::text FROM copy_bin;
SELECT id, v::text, w::text FROM copy_bin EXCEPT SELECT id, v::text, w::text FROM copy_src;

-- the column's type modifier is checked on binary input
CREATE TABLE copy_bin2 (id int, v vector(2), w vector);
COPY copy_bin2 FROM :'file' WITH (FORMAT binary);
DROP TABLE copy_bin2;

-- text round trip
COPY copy_src TO STDOUT;
COPY copy_src TO :'file';
CREATE TABLE copy_txt (LIKE copy_src);
COPY copy_txt FROM :'file';
SELECT id, v::text, w::text FROM copy_src EXCEPT SELECT id, v::text, w::text FROM copy_txt;
SELECT id, v::text, w::text FROM copy_txt EXCEPT SELECT id, v::text, w::text FROM copy_src;
COPY copy_txt FROM STDIN;
6	[1,2]	\N
\.
COPY copy_txt FROM STDIN;
6	[1,2,x]	\N
\.
SELECT count(*) FROM copy_txt;
DROP TABLE copy_src, copy_bin, copy_txt;

-- crafted binary files: a PGCOPY header, one tuple of one field, the trailer
-- (returns the length of the field written)
CREATE FUNCTION copy_write_file(path text, field bytea) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  lo oid;
BEGIN
  lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea  -- signature
                         || '\x0000000000000000'::bytea      -- flags, header extension length
                         || '\x0001'::bytea || int4send(length(field)) || field
                         || '\xffff'::bytea);                -- trailer
  PERFORM lo_export(lo, path);
  PERFORM lo_unlink(lo);
  RETURN length(field);
END $$;
CREATE TABLE copy_in (v vector);
CREATE TABLE copy_in3 (v vector(3));

-- valid fields are accepted: [1,2], [-0,1e-45], vector_send output, 16000 dimensions
SELECT copy_write_file(:'file', '\x000200003f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x0002000080000000' || '\x00000001'::bytea);
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', vector_send('[0.1,-2,3.4e38]'));
COPY copy_in FROM :'file' WITH (FORMAT binary);
COPY copy_in3 FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x3e800000'::bytea || decode(repeat('3f800000', 16000), 'hex'));
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT v FROM copy_in WHERE vector_dims(v) < 16000 ORDER BY v;
SELECT vector_dims(v), v = array_fill(1, ARRAY[16000])::vector AS all_ones FROM copy_in WHERE vector_dims(v) = 16000;
SELECT v FROM copy_in3;

-- dimensions out of range: -1, 0, 16001
SELECT copy_write_file(:'file', '\xffff00003f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x00000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x3e810000'::bytea || decode(repeat('3f800000', 16001), 'hex'));
COPY copy_in FROM :'file' WITH (FORMAT binary);

-- nonzero reserved field
SELECT copy_write_file(:'file', '\x000200013f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x0002ffff3f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);

-- too few or too many bytes for the dimensions
SELECT copy_write_file(:'file', '\x000300003f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x000100003f80000040000000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x0001');
COPY copy_in FROM :'file' WITH (FORMAT binary);

-- NaN and infinities
SELECT copy_write_file(:'file', '\x000200003f8000007fc00000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x000200007f8000003f800000');
COPY copy_in FROM :'file' WITH (FORMAT binary);
SELECT copy_write_file(:'file', '\x00010000ff800000');
COPY copy_in FROM :'file' WITH (FORMAT binary);

-- wrong dimensions for the column
SELECT copy_write_file(:'file', '\x000200003f80000040000000');
COPY copy_in3 FROM :'file' WITH (FORMAT binary);

-- nothing was loaded by the failed COPYs (4 and 1 rows from the valid ones)
SELECT count(*) FROM copy_in;
SELECT count(*) FROM copy_in3;
DROP TABLE copy_in, copy_in3;
DROP FUNCTION copy_write_file(text, bytea);
