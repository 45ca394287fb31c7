-- catalog registration: vecrec.track / vecrec.untrack
SET client_min_messages = warning;
CREATE SCHEMA "Shop";
CREATE TABLE "Shop"."Products" (id bigint PRIMARY KEY, title text, descr text, price numeric,
	embedding vector(3), "Emb 2" vector, n int, label text);
CREATE TABLE plain (id int, embedding vector);
RESET client_min_messages;

SELECT vecrec.track('"Shop"."Products"');
SELECT vecrec.track('plain', '{}'::name[]);     -- empty source list
SELECT vecrec.track('plain', NULL, 'vec');      -- no such column
SELECT vecrec.track('plain', NULL, 'embedding', 'nope');
SELECT vecrec.track('"Shop"."Products"', NULL, 'n');       -- not a vector
SELECT vecrec.track('"Shop"."Products"', NULL, 'embedding', 'title');  -- id not integer
SELECT vecrec.track('"Shop"."Products"', '{title,missing}');
SELECT vecrec.track('"Shop"."Products"', '{title,embedding}');
SELECT vecrec.track('"Shop"."Products"', NULL, 'embedding', 'id', 'lower(text)'::regprocedure::regproc);
SELECT vecrec.track('"Shop"."Products"', NULL, 'embedding', 'id', 'vector_dims'::regproc);
SELECT vecrec.track('no_such_table');
SELECT vecrec.track(NULL);
CREATE VIEW v AS SELECT * FROM plain;
SELECT vecrec.track('v');
SELECT vecrec.track('plain', NULL, NULL);

-- register, re-register (updates the row), quoted names
SELECT vecrec.track('plain');
SELECT vecrec.track('"Shop"."Products"', '{title,descr}', 'Emb 2');
SELECT catalog, id_column, embedding_column, source_columns, embedder FROM vecrec.catalogs ORDER BY catalog::text;
SELECT vecrec.track('"Shop"."Products"', '{title}');
SELECT catalog, id_column, embedding_column, source_columns FROM vecrec.catalogs ORDER BY catalog::text;

-- only a table's owners may track it, or change or remove its registration
CREATE ROLE regress_vecrec_other;
CREATE TABLE theirs (id int, embedding vector);
ALTER TABLE theirs OWNER TO regress_vecrec_other;
SET ROLE regress_vecrec_other;
SELECT vecrec.track('plain');
SELECT vecrec.track('theirs');
SELECT catalog FROM vecrec.catalogs ORDER BY catalog::text;   -- sees all
UPDATE vecrec.catalogs SET id_column = 'x' WHERE catalog = 'plain'::regclass;
DELETE FROM vecrec.catalogs WHERE catalog = 'plain'::regclass;
INSERT INTO vecrec.catalogs (catalog, id_column, embedding_column) VALUES ('plain', 'id', 'embedding');
SELECT vecrec.untrack('plain');
SELECT vecrec.untrack('theirs');
RESET ROLE;
DROP TABLE theirs;
DROP ROLE regress_vecrec_other;

SELECT vecrec.untrack('plain');
SELECT vecrec.untrack('plain');
SELECT vecrec.untrack('"Shop"."Products"');
SELECT count(*) FROM vecrec.catalogs;
DROP VIEW v;
DROP TABLE plain;
DROP SCHEMA "Shop" CASCADE;
