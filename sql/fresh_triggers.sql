-- catalog freshness: triggers installed by vecrec.track, the embedding queue,
-- claim_embedding_jobs, reembed, untrack
SET client_min_messages = warning;
CREATE SCHEMA "Fresh Shop";
RESET client_min_messages;
INSERT INTO vecrec.word_vectors (word, v) VALUES
	('red', '[1,0,0]'), ('chair', '[0,1,0]'), ('blue', '[0,0,1]'), ('acme', '[1,1,0]');

-- 1. with an embedder: the row's embedding is set in the same statement
CREATE TABLE "Fresh Shop"."Items" ("Id" bigint PRIMARY KEY, "Title" text, "Brand" text,
	price numeric, "Emb" vector(3));
SELECT vecrec.track('"Fresh Shop"."Items"', '{Title,Brand}', 'Emb', 'Id', 'vecrec.embed_text');
SELECT tgname FROM pg_trigger WHERE tgrelid = '"Fresh Shop"."Items"'::regclass ORDER BY 1;
INSERT INTO "Fresh Shop"."Items" VALUES
	(1, 'Red chair', NULL, 10, NULL),
	(2, NULL, NULL, 20, NULL),              -- all source columns NULL: no embedding
	(3, 'blue', 'ACME', 30, '[9,9,9]'),     -- the embedder wins over an inserted value
	(4, 'nothing known', NULL, 40, NULL);   -- embedder returns NULL
SELECT "Id", "Emb" FROM "Fresh Shop"."Items" ORDER BY 1;
-- an update of another column leaves the embedding alone (also a hand-written one)
UPDATE "Fresh Shop"."Items" SET "Emb" = '[5,5,5]' WHERE "Id" = 1;
UPDATE "Fresh Shop"."Items" SET price = price + 1;
UPDATE "Fresh Shop"."Items" SET "Title" = "Title" WHERE "Id" = 1;   -- same text: no change
SELECT "Id", "Emb" FROM "Fresh Shop"."Items" ORDER BY 1;
-- a changed source column re-embeds, also when the embedding is written too
UPDATE "Fresh Shop"."Items" SET "Brand" = 'acme' WHERE "Id" = 1;
UPDATE "Fresh Shop"."Items" SET "Title" = 'chair', "Emb" = '[7,7,7]' WHERE "Id" = 3;
UPDATE "Fresh Shop"."Items" SET "Title" = NULL, "Brand" = NULL WHERE "Id" = 4;
SELECT "Id", "Emb" FROM "Fresh Shop"."Items" ORDER BY 1;
-- reembed recomputes every row, in batches
UPDATE "Fresh Shop"."Items" SET "Emb" = NULL;
SELECT vecrec.reembed('"Fresh Shop"."Items"', 2);
SELECT "Id", "Emb" FROM "Fresh Shop"."Items" ORDER BY 1;
UPDATE "Fresh Shop"."Items" SET "Emb" = NULL;
CALL vecrec.reembed_in_batches('"Fresh Shop"."Items"', 3);
SELECT "Id", "Emb" FROM "Fresh Shop"."Items" ORDER BY 1;
SELECT count(*) FROM vecrec.reembed_progress;
-- an embedder of other dimensions than the column
CREATE FUNCTION "Fresh Shop".two_d(t text) RETURNS vector LANGUAGE sql IMMUTABLE
	AS $$ SELECT '[1,2]'::vector $$;
SELECT vecrec.track('"Fresh Shop"."Items"', '{Title}', 'Emb', 'Id', '"Fresh Shop".two_d');
INSERT INTO "Fresh Shop"."Items" ("Id", "Title") VALUES (5, 'red');
-- re-track replaces the triggers: no embedder now, so jobs are queued
SELECT vecrec.track('"Fresh Shop"."Items"', '{Title}', 'Emb', 'Id');
SELECT tgname FROM pg_trigger WHERE tgrelid = '"Fresh Shop"."Items"'::regclass ORDER BY 1;
INSERT INTO "Fresh Shop"."Items" ("Id", "Title") VALUES (5, 'red');
SELECT catalog, item_id, text, attempts FROM vecrec.embedding_queue;
SELECT vecrec.untrack('"Fresh Shop"."Items"');
SELECT tgname FROM pg_trigger WHERE tgrelid = '"Fresh Shop"."Items"'::regclass;
SELECT count(*) FROM vecrec.embedding_queue;

-- 2. without an embedder: the embedding queue
CREATE TABLE "Fresh Shop".products (id int PRIMARY KEY, title text, brand text, price numeric,
	embedding vector(3));
SELECT vecrec.track('"Fresh Shop".products', '{title,brand}');
CREATE VIEW jobs AS
	SELECT catalog, item_id, text, claimed_at IS NOT NULL AS claimed, attempts
	  FROM vecrec.embedding_queue ORDER BY catalog::text, item_id;
INSERT INTO "Fresh Shop".products VALUES
	(1, 'Red chair', 'Acme', 10, NULL),
	(2, NULL, NULL, 20, NULL),              -- no text: no job
	(3, 'blue', NULL, 30, '[1,1,1]'),       -- inserted with an embedding: no job
	(4, 'sofa', '', 40, NULL);              -- an empty string is text: 'sofa '
SELECT * FROM jobs;
-- other columns: nothing queued; a source change: a job, coalesced per row
UPDATE "Fresh Shop".products SET price = price * 2;
UPDATE "Fresh Shop".products SET title = title;
SELECT * FROM jobs;
UPDATE "Fresh Shop".products SET title = 'Red armchair' WHERE id = 1;
UPDATE "Fresh Shop".products SET brand = 'Zeta' WHERE id IN (1, 2, 3);
SELECT * FROM jobs;
-- all source columns NULL again: the job is dropped
UPDATE "Fresh Shop".products SET title = NULL, brand = NULL WHERE id = 2;
SELECT * FROM jobs;
-- claim: one batch each, SKIP LOCKED, attempts counted
SELECT * FROM vecrec.claim_embedding_jobs(2) ORDER BY item_id;
SELECT * FROM vecrec.claim_embedding_jobs(10) ORDER BY item_id;
SELECT * FROM vecrec.claim_embedding_jobs(10);                       -- nothing left
SELECT * FROM jobs;
-- a change while claimed re-queues the job with the new text, unclaimed
UPDATE "Fresh Shop".products SET title = 'Blue armchair' WHERE id = 1;
SELECT * FROM jobs;
-- lease expiry: a job claimed longer ago than vecrec.embedding_lease is handed out again
SHOW vecrec.embedding_lease;
SELECT vecrec._embedding_lease();
UPDATE vecrec.embedding_queue SET claimed_at = now() - interval '4 minutes' WHERE item_id = 3;
SELECT * FROM vecrec.claim_embedding_jobs(10) ORDER BY item_id;     -- job 1 only
SET vecrec.embedding_lease = '3min';
SELECT * FROM vecrec.claim_embedding_jobs(10) ORDER BY item_id;     -- job 3, second attempt
RESET vecrec.embedding_lease;
SELECT * FROM jobs;
SELECT * FROM vecrec.claim_embedding_jobs(0);
-- completion: the worker writes the embedding (a plain UPDATE by id)
UPDATE "Fresh Shop".products SET embedding = '[1,0,0]' WHERE id = 1;
-- writing the same value again completes a job too
UPDATE "Fresh Shop".products SET title = 'blue chair' WHERE id = 3;
UPDATE "Fresh Shop".products SET embedding = embedding WHERE id = 3;
SELECT * FROM jobs;
-- an explicitly written different embedding wins over a source change
UPDATE "Fresh Shop".products SET title = 'green sofa', embedding = '[0,0,1]' WHERE id = 4;
SELECT * FROM jobs;
-- delete and truncate drop jobs
UPDATE "Fresh Shop".products SET title = title || ' 2';
SELECT * FROM jobs;
DELETE FROM "Fresh Shop".products WHERE id = 1;
SELECT * FROM jobs;
TRUNCATE "Fresh Shop".products;
SELECT * FROM jobs;
-- bulk: a multi-row INSERT and UPDATE queue one job per row, in one statement each
INSERT INTO "Fresh Shop".products (id, title) SELECT i, 'item ' || i FROM generate_series(1, 1000) i;
SELECT count(*), min(text), max(text) FROM vecrec.embedding_queue;
SELECT count(*) FROM vecrec.claim_embedding_jobs(100);
UPDATE "Fresh Shop".products SET title = title || ' new' WHERE id % 2 = 0;
SELECT count(*), count(claimed_at), count(*) FILTER (WHERE text LIKE '% new') FROM vecrec.embedding_queue;
UPDATE "Fresh Shop".products SET embedding = '[1,2,3]' WHERE id <= 500;
SELECT count(*), min(item_id) FROM vecrec.embedding_queue;
-- duplicate ids in one statement (a catalog without a unique id): the last text wins
CREATE TABLE "Fresh Shop".nounique (id bigint, title text, embedding vector(3));
SELECT vecrec.track('"Fresh Shop".nounique', '{title}');
INSERT INTO "Fresh Shop".nounique VALUES (1, 'first', NULL), (1, 'second', NULL);
SELECT item_id, text FROM vecrec.embedding_queue WHERE catalog = '"Fresh Shop".nounique'::regclass;
-- a partitioned catalog: write through the parent
CREATE TABLE "Fresh Shop".parted (id int, title text, embedding vector(3)) PARTITION BY RANGE (id);
CREATE TABLE "Fresh Shop".parted1 PARTITION OF "Fresh Shop".parted FOR VALUES FROM (0) TO (100);
SELECT vecrec.track('"Fresh Shop".parted', '{title}');
INSERT INTO "Fresh Shop".parted VALUES (1, 'one', NULL), (2, 'two', NULL);
UPDATE "Fresh Shop".parted SET embedding = '[1,1,1]' WHERE id = 1;
SELECT item_id, text FROM vecrec.embedding_queue WHERE catalog = '"Fresh Shop".parted'::regclass;
INSERT INTO "Fresh Shop".parted1 VALUES (3, 'three', NULL);   -- into the partition: a warning
SELECT vecrec.untrack('"Fresh Shop".parted');
-- reembed without an embedder queues every row
TRUNCATE vecrec.embedding_queue;
SELECT vecrec.reembed('"Fresh Shop".products', 300);
SELECT count(*), count(*) FILTER (WHERE claimed_at IS NULL) FROM vecrec.embedding_queue;
-- a worker role that may update the catalog sees and claims its jobs; others see none
CREATE ROLE regress_vecrec_worker;
CREATE ROLE regress_vecrec_stranger;
GRANT USAGE ON SCHEMA "Fresh Shop" TO regress_vecrec_worker, regress_vecrec_stranger;
GRANT SELECT, UPDATE ON "Fresh Shop".products TO regress_vecrec_worker;
SET ROLE regress_vecrec_stranger;
SELECT count(*) FROM vecrec.embedding_queue;
SELECT count(*) FROM vecrec.claim_embedding_jobs(10);
SET ROLE regress_vecrec_worker;
SELECT count(*) FROM vecrec.claim_embedding_jobs(10);
UPDATE "Fresh Shop".products SET embedding = '[0,1,0]'
 WHERE id IN (SELECT item_id FROM vecrec.embedding_queue WHERE claimed_at IS NOT NULL);
SELECT count(*) FROM vecrec.embedding_queue;
UPDATE "Fresh Shop".products SET title = 'changed by the worker' WHERE id = 999;  -- queues as the worker
SELECT item_id, text FROM vecrec.embedding_queue WHERE item_id = 999;
RESET ROLE;

-- 3. errors
SELECT vecrec.reembed('"Fresh Shop".products', 0);
SELECT vecrec.reembed('"Fresh Shop"."Items"');
CREATE TABLE "Fresh Shop".nosrc (id int, embedding vector);
SELECT vecrec.track('"Fresh Shop".nosrc');
SELECT vecrec.reembed('"Fresh Shop".nosrc');
SELECT vecrec.track('"Fresh Shop".nosrc', '{title}');                  -- unknown column
SELECT vecrec.track('"Fresh Shop".nosrc', '{id}', 'embedding', 'id', 'vecrec.tokenize');
SELECT vecrec.track('"Fresh Shop".nosrc', '{id}', 'id');               -- not a vector
-- a column renamed after track
SELECT vecrec.track('"Fresh Shop".nosrc', '{id}');
ALTER TABLE "Fresh Shop".nosrc RENAME COLUMN id TO ident;
INSERT INTO "Fresh Shop".nosrc VALUES (1, NULL);
-- the trigger functions refuse to run outside their triggers or for another catalog
CREATE TABLE "Fresh Shop".evil (id int, title text, embedding vector);
DO $$ BEGIN
	EXECUTE format('CREATE TRIGGER evil AFTER INSERT ON "Fresh Shop".evil FOR EACH STATEMENT
					EXECUTE FUNCTION vecrec._flush_jobs(%L)', '"Fresh Shop".products'::regclass::oid);
	EXECUTE format('CREATE TRIGGER evil2 AFTER INSERT ON "Fresh Shop".evil FOR EACH ROW
					EXECUTE FUNCTION vecrec._collect_job(%L, ''id'', ''embedding'', ''title'')',
				   '"Fresh Shop".products'::regclass::oid);
END $$;
INSERT INTO "Fresh Shop".evil VALUES (1, 'x', NULL);
DROP TRIGGER evil2 ON "Fresh Shop".evil;
INSERT INTO "Fresh Shop".evil VALUES (1, 'x', NULL);
DROP TRIGGER evil ON "Fresh Shop".evil;
DO $$ BEGIN
	EXECUTE format('CREATE TRIGGER evil BEFORE INSERT ON "Fresh Shop".evil FOR EACH ROW
					EXECUTE FUNCTION vecrec._collect_job(%L, ''id'', ''embedding'', ''title'')',
				   '"Fresh Shop".evil'::regclass::oid);
END $$;
INSERT INTO "Fresh Shop".evil VALUES (1, 'x', NULL);
SELECT vecrec._embed_row();

-- 4. untrack removes triggers and jobs
SELECT vecrec.untrack('"Fresh Shop".products');
SELECT vecrec.untrack('"Fresh Shop".nounique');
SELECT vecrec.untrack('"Fresh Shop".nosrc');
SELECT count(*) FROM vecrec.embedding_queue;
SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vecrec_fresh_%';
UPDATE "Fresh Shop".products SET title = 'untracked' WHERE id = 1;
SELECT count(*) FROM vecrec.embedding_queue;

DROP VIEW jobs;
REVOKE ALL ON SCHEMA "Fresh Shop" FROM regress_vecrec_worker, regress_vecrec_stranger;
REVOKE ALL ON "Fresh Shop".products FROM regress_vecrec_worker;
DROP ROLE regress_vecrec_worker;
DROP ROLE regress_vecrec_stranger;
SET client_min_messages = warning;
DROP SCHEMA "Fresh Shop" CASCADE;
RESET client_min_messages;
TRUNCATE vecrec.word_vectors;
