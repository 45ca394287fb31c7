-- merchandising rules: validation, the match compiler, injection attempts, the role
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE TABLE rshop (id bigint PRIMARY KEY, category text, brand varchar(10), price numeric,
	in_stock boolean, added date, "Odd Col" int, embedding vector(3));
CREATE TABLE untracked (id bigint, embedding vector(3));
RESET client_min_messages;
SELECT vecrec.track('rshop');

-- the compiler: equality, operators, in / not in, NULL, several keys (AND), quoted identifiers
SELECT vecrec.compile_match('rshop', '{"category": "clearance"}');
SELECT vecrec.compile_match('rshop', '{"price": {"<": 100, ">=": 5}}');
SELECT vecrec.compile_match('rshop', '{"brand": {"in": ["a", "b"]}, "in_stock": true}');
SELECT vecrec.compile_match('rshop', '{"category": {"not in": ["x"]}, "added": {">": "2024-01-01"}}');
SELECT vecrec.compile_match('rshop', '{"Odd Col": {"!=": 3}, "category": null}');
SELECT vecrec.compile_match('rshop', '{"category": {"<>": null}}');
SELECT vecrec.compile_match('rshop', NULL);

-- bad matches: not an object, empty, unknown column, bad operator, values that do not cast
SELECT vecrec.compile_match('rshop', '[1]');
SELECT vecrec.compile_match('rshop', '{}');
SELECT vecrec.compile_match('rshop', '{"colour": "red"}');
SELECT vecrec.compile_match('rshop', '{"price": {}}');
SELECT vecrec.compile_match('rshop', '{"price": {"~": "1"}}');
SELECT vecrec.compile_match('rshop', '{"price": "cheap"}');
SELECT vecrec.compile_match('rshop', '{"price": {"<": [1]}}');
SELECT vecrec.compile_match('rshop', '{"price": {"in": []}}');
SELECT vecrec.compile_match('rshop', '{"price": {"in": 5}}');
SELECT vecrec.compile_match('rshop', '{"in_stock": "maybe"}');
SELECT vecrec.compile_match('rshop', '{"added": {"in": ["2024-01-01", "yesterday-ish"]}}');
SELECT vecrec.compile_match('rshop', '{"embedding": {"<": "[1,2,3]"}}');
SELECT vecrec.compile_match('rshop', '{"ctid": "(0,1)"}');

-- injection attempts: keys never become SQL, values are quoted literals, operators are a fixed list
SELECT vecrec.compile_match('rshop', '{"category\" = category OR true --": "x"}');
SELECT vecrec.compile_match('rshop', '{"price) OR (true": 1}');
SELECT vecrec.compile_match('rshop', '{"price": {"< 0 OR true OR price <": 1}}');
SELECT vecrec.compile_match('rshop', '{"price": {"= ANY(ARRAY[1]) OR true --": 1}}');
SELECT vecrec.compile_match('rshop', $${"category": "x' OR true; DROP TABLE rshop; --"}$$);
SELECT vecrec.compile_match('rshop', $${"category": {"in": ["a", "b'); DROP TABLE rshop; --"]}}$$);
SELECT vecrec.compile_match('rshop', jsonb_build_object('category', '$q$ OR true --', 'price', 'NaN'));

-- validation per action, on INSERT and UPDATE
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('untracked', 'pin', 1, 1);
INSERT INTO vecrec.rules (catalog, action, item_id) VALUES ('rshop', 'pin', 1);
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('rshop', 'pin', 1, 0);
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('rshop', 'pin', 1, 1.5);
INSERT INTO vecrec.rules (catalog, action, value) VALUES ('rshop', 'pin', 1);
INSERT INTO vecrec.rules (catalog, action, item_id, value, match) VALUES ('rshop', 'pin', 1, 1, '{"category": "x"}');
INSERT INTO vecrec.rules (catalog, action, match) VALUES ('rshop', 'boost', '{"category": "x"}');
INSERT INTO vecrec.rules (catalog, action, match, value) VALUES ('rshop', 'boost', '{"category": "x"}', 0);
INSERT INTO vecrec.rules (catalog, action, match, value) VALUES ('rshop', 'boost', '{"category": "x"}', 'NaN');
INSERT INTO vecrec.rules (catalog, action, value) VALUES ('rshop', 'boost', 2);
INSERT INTO vecrec.rules (catalog, action) VALUES ('rshop', 'block');
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('rshop', 'block', 1, 2);
INSERT INTO vecrec.rules (catalog, action, value) VALUES ('rshop', 'cap', 2);
INSERT INTO vecrec.rules (catalog, action, group_by, value) VALUES ('rshop', 'cap', 'colour', 2);
INSERT INTO vecrec.rules (catalog, action, group_by, value) VALUES ('rshop', 'cap', 'category', 0);
INSERT INTO vecrec.rules (catalog, action, group_by, value, item_id) VALUES ('rshop', 'cap', 'category', 1, 5);
INSERT INTO vecrec.rules (catalog, action, group_by, item_id, value) VALUES ('rshop', 'block', 'category', 1, NULL);
INSERT INTO vecrec.rules (catalog, action, item_id) VALUES ('rshop', 'hide', 1);
INSERT INTO vecrec.rules (catalog, action, match) VALUES ('rshop', 'block', '{"price": "free"}');
INSERT INTO vecrec.rules (catalog, action, item_id, starts_at, ends_at)
	VALUES ('rshop', 'block', 1, '2030-01-02', '2030-01-01');

-- good rules; match_sql is compiled from match and cannot be written by hand
INSERT INTO vecrec.rules (catalog, surface, action, match, note)
	VALUES ('rshop', 'pdp', 'block', '{"category": "clearance"}', 'no clearance on product pages');
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('rshop', 'pin', 7, 1);
INSERT INTO vecrec.rules (catalog, action, group_by, value) VALUES ('rshop', 'cap', 'brand', 2);
SELECT action, surface, item_id, value, group_by, enabled, match_sql, created_by = current_user AS by_me
  FROM vecrec.rules ORDER BY id;
UPDATE vecrec.rules SET match_sql = 'true' WHERE action = 'block';
SELECT match_sql FROM vecrec.rules WHERE action = 'block';
UPDATE vecrec.rules SET match = '{"price": {">": 500}}' WHERE action = 'block';
SELECT match_sql FROM vecrec.rules WHERE action = 'block';
UPDATE vecrec.rules SET match = '{"nope": 1}' WHERE action = 'block';

-- vecrec_merchandiser manages rules but not the catalog
CREATE ROLE regress_merch IN ROLE vecrec_merchandiser;
CREATE ROLE regress_app;
GRANT SELECT ON rshop TO regress_merch;
SET ROLE regress_merch;
INSERT INTO vecrec.rules (catalog, action, match, value) VALUES ('rshop', 'boost', '{"brand": "acme"}', 1.5);
UPDATE vecrec.rules SET enabled = false WHERE action = 'boost';
SELECT action, enabled, created_by FROM vecrec.rules WHERE action = 'boost';
INSERT INTO rshop (id) VALUES (1);
UPDATE vecrec.catalogs SET id_column = 'x';
SELECT vecrec.untrack('rshop');
DELETE FROM vecrec.rules WHERE action = 'boost';
RESET ROLE;
SET ROLE regress_app;
SELECT count(*) > 0 AS app_reads_rules FROM vecrec.rules;
INSERT INTO vecrec.rules (catalog, action, item_id) VALUES ('rshop', 'block', 1);
DELETE FROM vecrec.rules;
RESET ROLE;

-- rules, events and impressions are dumped with the extension's configuration
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) x(oid) JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'vecrec' ORDER BY 1;

-- untracking the catalog removes its rules
SELECT vecrec.untrack('rshop');
SELECT count(*) FROM vecrec.rules;

REVOKE SELECT ON rshop FROM regress_merch;
DROP ROLE regress_merch;
DROP ROLE regress_app;
DROP TABLE rshop, untracked;
