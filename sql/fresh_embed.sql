-- catalog freshness: vecrec.tokenize, vecrec.embed_text, vecrec.load_word_vectors

-- tokenizer: lower-cased runs of letters and digits, Unicode aware
SELECT vecrec.tokenize('Summer PATIO furniture, under 500!');
SELECT vecrec.tokenize('  --  ');
SELECT vecrec.tokenize('');
SELECT vecrec.tokenize('Ünïcödé ÀÉÎÕÜ Straße ẞ ÆØÅ İstanbul Łódź Ÿ');
SELECT vecrec.tokenize('ΑΘΗΝΑ Ωμέγα Ά МОСКВА Ёлка ЎЇ Հայ');
SELECT vecrec.tokenize('Ｆｕｌｌ　ｗｉｄｔｈ１２ 東京タワー 서울 שלום مرحبا हिंदी');
SELECT vecrec.tokenize('e' || U&'\0301' || 'te café');   -- combining accent stays in the word
SELECT vecrec.tokenize('don''t stop_me 3.5kg 😀smile');

-- embed_text on a tiny vocabulary: no freq_rank = equal weights
INSERT INTO vecrec.word_vectors (word, v) VALUES
	('red', '[1,0,0]'), ('chair', '[0,1,0]'), ('blue', '[0,0,1]'), ('sofa', '[0,2,0]');
SELECT vecrec.embed_text('Red chair');
SELECT vecrec.embed_text('RED red chair, with a table');   -- repeated words count twice
SELECT vecrec.embed_text('blue sofa');                     -- unit length after the sum
SELECT vecrec.embed_text('no known word') IS NULL AS unknown,
       vecrec.embed_text('') IS NULL AS empty,
       vecrec.embed_text(NULL) IS NULL AS null_text;
SELECT round(vector_norm(vecrec.embed_text('red chair blue'))::numeric, 6);

-- SIF weights a / (a + p), p = 1 / (rank * H(N)), N = largest rank (here 4)
UPDATE vecrec.word_vectors SET freq_rank = CASE word WHEN 'red' THEN 1 WHEN 'chair' THEN 2
	WHEN 'blue' THEN 3 WHEN 'sofa' THEN 4 END;
CREATE FUNCTION sif(r int, a float8 DEFAULT 1e-3) RETURNS float8 LANGUAGE sql AS
	$$ SELECT a / (a + 1.0 / (r * (1 + 1/2.0 + 1/3.0 + 1/4.0))) $$;
SELECT array_agg(round(x::numeric, 6)) FROM unnest(vecrec.embed_text('red chair')::real[]) x;
SELECT round((sif(1) / sqrt(sif(1) ^ 2 + sif(2) ^ 2))::numeric, 6) AS red,
       round((sif(2) / sqrt(sif(1) ^ 2 + sif(2) ^ 2))::numeric, 6) AS chair;
SET vecrec.sif_a = 0.5;
SELECT array_agg(round(x::numeric, 6)) FROM unnest(vecrec.embed_text('red chair')::real[]) x;
SELECT round((sif(1, 0.5) / sqrt(sif(1, 0.5) ^ 2 + sif(2, 0.5) ^ 2))::numeric, 6) AS red,
       round((sif(2, 0.5) / sqrt(sif(1, 0.5) ^ 2 + sif(2, 0.5) ^ 2))::numeric, 6) AS chair;
SET vecrec.sif_a = 0;                                       -- 0: equal weights
SELECT vecrec.embed_text('red chair');
RESET vecrec.sif_a;
SET vecrec.sif_a = -1;
UPDATE vecrec.word_vectors SET freq_rank = NULL;

-- the per-backend cache follows every change of the table, in and across transactions
SELECT vecrec.embed_text('green chair');
INSERT INTO vecrec.word_vectors (word, v) VALUES ('green', '[0,0,3]');
SELECT vecrec.embed_text('green chair');
BEGIN;
UPDATE vecrec.word_vectors SET v = '[3,0,0]' WHERE word = 'green';
SELECT vecrec.embed_text('green chair');
ROLLBACK;
SELECT vecrec.embed_text('green chair');
BEGIN;
DELETE FROM vecrec.word_vectors WHERE word = 'green';
SELECT vecrec.embed_text('green chair');
SAVEPOINT s;
INSERT INTO vecrec.word_vectors (word, v) VALUES ('green', '[3,0,0]');
SELECT vecrec.embed_text('green chair');
ROLLBACK TO s;
SELECT vecrec.embed_text('green chair');
COMMIT;
SELECT vecrec.embed_text('green chair');
-- in one statement the vocabulary is read once
SELECT t, vecrec.embed_text(t) FROM (VALUES ('red'), ('blue chair'), ('nothing')) v(t);
-- mixed dimensions
INSERT INTO vecrec.word_vectors (word, v) VALUES ('big', '[1,2]');
SELECT vecrec.embed_text('red');
DELETE FROM vecrec.word_vectors WHERE word = 'big';
TRUNCATE vecrec.word_vectors;
SELECT vecrec.embed_text('red') IS NULL AS empty_vocabulary;

-- load_word_vectors: files written by the server for the test
-- (CSV output, so that the tab is written as it is; NULL = an empty line)
COPY (VALUES ('3 2'), ('the 0.5 0.5'), ('Chair 1 0'), (NULL), ('the 9 9'), ('table	0  1 ')) TO '/tmp/vecrec_fresh_w1.txt' (FORMAT csv);
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w1.txt');
SELECT word, v, freq_rank FROM vecrec.word_vectors ORDER BY freq_rank;
SELECT vecrec.embed_text('the table'), vecrec.embed_text('CHAIR');   -- words match case-insensitively
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w1.txt', frequency_ordered => false);
SELECT word, v, freq_rank FROM vecrec.word_vectors ORDER BY word;
COPY (VALUES ('a 1 2 3'), ('b 1 2 3'), ('c 1 2')) TO '/tmp/vecrec_fresh_w2.txt';
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w2.txt');
COPY (VALUES ('a 1 2 3'), ('b 1 x 3')) TO '/tmp/vecrec_fresh_w3.txt';
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w3.txt');
COPY (VALUES ('a 1 2 3'), ('b 1 NaN 3')) TO '/tmp/vecrec_fresh_w3.txt';
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w3.txt');
COPY (VALUES (NULL), ('   ')) TO '/tmp/vecrec_fresh_w3.txt' (FORMAT csv);
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w3.txt');
SELECT count(*) FROM vecrec.word_vectors;                  -- failed loads changed nothing
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_no_such_file.txt');
CREATE ROLE regress_vecrec_reader;
SET ROLE regress_vecrec_reader;
SELECT vecrec.load_word_vectors('/tmp/vecrec_fresh_w1.txt');
SELECT vecrec.embed_text('the chair');                     -- anyone may embed
RESET ROLE;
DROP ROLE regress_vecrec_reader;
TRUNCATE vecrec.word_vectors;
DROP FUNCTION sif(int, float8);
