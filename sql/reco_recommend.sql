-- vecrec.recommend() and vecrec.preview()
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE TABLE shop (id bigint PRIMARY KEY, category text, brand text, price numeric,
	in_stock boolean, embedding vector(3));
INSERT INTO shop
SELECT i, (ARRAY['shoes', 'shirts', 'hats', 'clearance'])[i % 4 + 1], (ARRAY['acme', 'bolt', 'core'])[i % 3 + 1],
	   (i * 13) % 100, i % 3 <> 0,
	   ARRAY[cos(i * 0.3), sin(i * 0.3), (i % 5) * 0.2 + 0.1]::vector
  FROM generate_series(1, 60) i;
INSERT INTO shop VALUES (61, 'shoes', 'acme', 10, true, NULL);   -- no embedding yet
CREATE INDEX shop_embedding ON shop USING hnsw (embedding vector_cosine_ops);
CREATE TABLE not_tracked (id bigint, embedding vector(3));
RESET client_min_messages;
SELECT vecrec.track('shop');
SET vecrec.log_impressions = off;

-- bad input
SELECT * FROM vecrec.recommend('not_tracked', '[1,0,0]');
SELECT * FROM vecrec.recommend(NULL, '[1,0,0]');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', 0);
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', NULL);
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', 12, candidates => 11);
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', lambda => 1.5);
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', lambda => 'NaN');
SELECT * FROM vecrec.recommend('shop', '[1,0]');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'colour = ''red''');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'price');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'price <');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => '');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => '  -- nothing');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'price < ''1''::numeric');   -- fine
-- filters that try to leave their parentheses
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true); DROP TABLE shop; --');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true; DROP TABLE shop');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'false) OR (true');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'false)) OR ((true');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => '(in_stock');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'category = ''x');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true /* ');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true $$');
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'category = ''a;b'' OR category = ''x)''');  -- fine
SELECT * FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true) UNION (SELECT 1');
SELECT id, rank, round(score::numeric, 6) AS score, reason FROM vecrec.recommend('shop', '[1,0,0]', filter => 'true -- ) OR (true', k => 3, lambda => 1);
SELECT count(*) FROM shop;

-- lambda = 1 is similarity order: the same rows as ORDER BY embedding <=> query under the same filter
CREATE FUNCTION exact(q vector, k int, f text DEFAULT 'true', ex bigint[] DEFAULT '{}') RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE r bigint[];
BEGIN
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM shop WHERE (%s) AND id <> ALL ($2)
	                 ORDER BY embedding <=> $1, id LIMIT $3) s', f) INTO r USING q, ex, k;
	RETURN r;
END $$;
CREATE FUNCTION reco(q vector, k int, f text DEFAULT NULL, ex bigint[] DEFAULT NULL, cand int DEFAULT 120) RETURNS bigint[]
LANGUAGE sql AS $$ SELECT array_agg(id ORDER BY rank) FROM vecrec.recommend('shop', q, k, NULL, f, ex, cand, 1) $$;
SELECT reco('[1,0,0.3]', 10) = exact('[1,0,0.3]', 10) AS same;
SELECT reco('[0,1,0.5]', 12, 'in_stock AND price < 50') = exact('[0,1,0.5]', 12, 'in_stock AND price < 50') AS same;
SELECT reco('[0,1,0.5]', 12, 'in_stock', '{1,2,3,14,15}') = exact('[0,1,0.5]', 12, 'in_stock', '{1,2,3,14,15}') AS same;
SELECT reco('[-1,0,0.1]', 5, 'category = ''hats''', NULL, 5) = exact('[-1,0,0.1]', 5, 'category = ''hats''') AS same;
SET enable_seqscan = off;
SELECT reco('[1,0,0.3]', 10) = exact('[1,0,0.3]', 10) AS same_index;
RESET enable_seqscan;
SELECT id, rank, round(score::numeric, 4) AS score, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 4, lambda => 1);
SELECT id, round((1 - (embedding <=> '[1,0,0.3]'))::numeric, 4) AS similarity FROM shop ORDER BY embedding <=> '[1,0,0.3]' LIMIT 4;

-- lambda < 1: the MMR part equals vecrec.mmr over the candidate set (the nearest rows under the filter)
CREATE FUNCTION mmr_expected(q vector, k int, cand int, lambda float8, f text DEFAULT 'true') RETURNS TABLE (id bigint, score numeric)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format('SELECT m.id, round(m.score::numeric, 6) FROM
		(SELECT array_agg(id) ids, array_agg(embedding) e FROM
		  (SELECT id, embedding FROM shop WHERE (%s) AND embedding IS NOT NULL ORDER BY embedding <=> $1, id LIMIT $3) s) c,
		vecrec.mmr($1, c.ids, c.e, $2, $4) m ORDER BY m.rank', f) USING q, k, cand, lambda;
END $$;
SELECT array_agg(r.id ORDER BY r.rank) = (SELECT array_agg(e.id) FROM mmr_expected('[1,0,0.3]', 8, 120, 0.7) e) AS same_ids,
       array_agg(round(r.score::numeric, 6) ORDER BY r.rank) = (SELECT array_agg(e.score) FROM mmr_expected('[1,0,0.3]', 8, 120, 0.7) e) AS same_scores
  FROM vecrec.recommend('shop', '[1,0,0.3]', 8) r;
SELECT array_agg(r.id ORDER BY r.rank) = (SELECT array_agg(e.id) FROM mmr_expected('[0,1,0.2]', 6, 15, 0.3, 'in_stock AND price < 70') e) AS same_ids
  FROM vecrec.recommend('shop', '[0,1,0.2]', 6, filter => 'in_stock AND price < 70', candidates => 15, lambda => 0.3) r;
SELECT array_agg(r.id ORDER BY r.rank) = (SELECT array_agg(e.id) FROM mmr_expected('[0,1,0.2]', 5, 5, 0) e) AS same_ids
  FROM vecrec.recommend('shop', '[0,1,0.2]', 5, candidates => 5, lambda => 0) r;
-- diversity goes up as lambda goes down
SELECT round(vecrec.diversity(array_agg(s.embedding))::numeric, 4) AS lambda_1,
       (SELECT round(vecrec.diversity(array_agg(s2.embedding))::numeric, 4)
          FROM vecrec.recommend('shop', '[1,0,0.3]', 8, lambda => 0.3) r2 JOIN shop s2 USING (id)) AS lambda_03
  FROM vecrec.recommend('shop', '[1,0,0.3]', 8, lambda => 1) r JOIN shop s USING (id);

-- a selective filter still fills k; fewer matching rows than k: all of them
SELECT count(*) FROM shop WHERE category = 'hats' AND in_stock AND embedding IS NOT NULL;
SELECT count(*), count(DISTINCT id) FROM vecrec.recommend('shop', '[1,0,0]', 5, filter => 'category = ''hats'' AND in_stock', candidates => 5, lambda => 1);
SELECT cardinality(reco('[1,0,0]', 12, 'category = ''hats'' AND in_stock')),
       reco('[1,0,0]', 12, 'category = ''hats'' AND in_stock') = exact('[1,0,0]', 12, 'category = ''hats'' AND in_stock') AS all_of_them;
-- the filter may call functions and operators of the caller's search_path
SELECT reco('[1,0,0]', 5, 'embedding <=> ''[1,0,0]'' < 0.5') = exact('[1,0,0]', 5, 'embedding <=> ''[1,0,0]'' < 0.5') AS same;
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0]', 5, filter => 'false');
-- exclusions, and never a duplicate; rows without an embedding are not similar to anything
SELECT count(*) FILTER (WHERE id = ANY ('{1,2,3}')) AS excluded, count(*), count(DISTINCT id)
  FROM vecrec.recommend('shop', '[1,0,0.3]', 30, exclude => '{1,2,3}', lambda => 1);
SELECT count(*), bool_and(id <> 61) FROM vecrec.recommend('shop', '[1,0,0.3]', 100, candidates => 100, lambda => 1);

-- rules ------------------------------------------------------------------------
-- block: matching rows never appear (also when they would be nearest)
INSERT INTO vecrec.rules (catalog, action, match) VALUES ('shop', 'block', '{"category": "clearance"}');
INSERT INTO vecrec.rules (catalog, action, item_id) VALUES ('shop', 'block', 21);
SELECT reco('[1,0,0.3]', 10) = exact('[1,0,0.3]', 10, 'category <> ''clearance'' AND id <> 21') AS blocked;
-- surface scoping: a rule for another surface does not apply, one for this surface does
INSERT INTO vecrec.rules (catalog, surface, action, match) VALUES ('shop', 'cart', 'block', '{"brand": "acme"}');
SELECT count(*) FILTER (WHERE s.brand = 'acme') > 0 AS acme_on_pdp
  FROM vecrec.recommend('shop', '[1,0,0.3]', 10, surface => 'pdp', lambda => 1) r JOIN shop s USING (id);
SELECT count(*) FILTER (WHERE s.brand = 'acme') AS acme_in_cart, count(*)
  FROM vecrec.recommend('shop', '[1,0,0.3]', 10, surface => 'cart', lambda => 1) r JOIN shop s USING (id);
-- time windows: a rule that has not started, one that has ended, one that is live
INSERT INTO vecrec.rules (catalog, action, match, starts_at) VALUES ('shop', 'block', '{"brand": "bolt"}', now() + interval '1 day');
INSERT INTO vecrec.rules (catalog, action, match, ends_at) VALUES ('shop', 'block', '{"brand": "bolt"}', now() - interval '1 day');
SELECT count(*) FILTER (WHERE s.brand = 'bolt') > 0 AS bolt_shown
  FROM vecrec.recommend('shop', '[1,0,0.3]', 10, lambda => 1) r JOIN shop s USING (id);
INSERT INTO vecrec.rules (catalog, action, match, starts_at, ends_at)
	VALUES ('shop', 'block', '{"brand": "bolt"}', now() - interval '1 hour', now() + interval '1 hour');
SELECT count(*) FILTER (WHERE s.brand = 'bolt') AS bolt_shown, count(*)
  FROM vecrec.recommend('shop', '[1,0,0.3]', 10, lambda => 1) r JOIN shop s USING (id);
DELETE FROM vecrec.rules WHERE match->>'brand' = 'bolt';

-- boost: a row further down, boosted, moves up; its reason says so
SELECT rank, round(score::numeric, 4) AS score, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 30, lambda => 1) WHERE id = 5;
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('shop', 'boost', 5, 4);
SELECT rank, round(score::numeric, 4) AS score, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 30, lambda => 1) WHERE id = 5;
SELECT round((4 * (1 - (embedding <=> '[1,0,0.3]')))::numeric, 4) AS expected_score FROM shop WHERE id = 5;
-- a negative score is divided by the factor, so a boost never demotes
SELECT rank, round(score::numeric, 4) AS score FROM vecrec.recommend('shop', '[1,0,0.3]', 60, candidates => 60, lambda => 1) WHERE id = 10;
UPDATE vecrec.rules SET item_id = 10 WHERE action = 'boost';
SELECT rank, round(score::numeric, 4) AS score, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 60, candidates => 60, lambda => 1) WHERE id = 10;
SELECT round(((1 - (embedding <=> '[1,0,0.3]')) / 4)::numeric, 4) AS expected_score FROM shop WHERE id = 10;
DELETE FROM vecrec.rules WHERE action = 'boost';
INSERT INTO vecrec.rules (catalog, action, match, value, enabled) VALUES ('shop', 'boost', '{"brand": "core"}', 1.3, false);
SELECT array_agg(id ORDER BY rank) = (SELECT array_agg(id ORDER BY (1 - (embedding <=> '[1,0,0.3]')) * CASE WHEN brand = 'core' THEN 1.3 ELSE 1 END DESC, id)
                                       FROM (SELECT * FROM shop WHERE category <> 'clearance' AND id NOT IN (21) AND embedding IS NOT NULL
                                              ORDER BY embedding <=> '[1,0,0.3]' LIMIT 20) s
                                      ) AS boosted_order_in_preview
  FROM vecrec.preview('shop', '[1,0,0.3]', 20, candidates => 20, lambda => 1) r;
-- shadow: the disabled boost changes the preview, not recommend()
SELECT (SELECT array_agg(reason ORDER BY rank) FROM vecrec.recommend('shop', '[1,0,0.3]', 8, lambda => 1)) AS live,
       (SELECT array_agg(reason ORDER BY rank) FROM vecrec.preview('shop', '[1,0,0.3]', 8, lambda => 1)) AS shadow;
-- preview of exactly some rules, and at a future time
INSERT INTO vecrec.rules (catalog, action, item_id, value, starts_at, enabled) VALUES ('shop', 'pin', 30, 1, now() + interval '7 days', false);
SELECT id, rank, reason FROM vecrec.preview('shop', '[1,0,0.3]', 3, lambda => 1,
	rules => ARRAY[(SELECT max(id) FROM vecrec.rules)]);
SELECT id, rank, reason FROM vecrec.preview('shop', '[1,0,0.3]', 3, lambda => 1,
	rules => ARRAY[(SELECT max(id) FROM vecrec.rules)], as_of => now() + interval '8 days');
DELETE FROM vecrec.rules WHERE NOT enabled;

-- pin: at its slot, still under the filter, the exclusions and the blocks
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('shop', 'pin', 30, 2);
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('shop', 'pin', 61, 4);   -- no embedding: pinned all the same
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('shop', 'pin', 32, 50);  -- beyond k: not pinned
SELECT id, rank, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1) ORDER BY rank;
SELECT array_agg(id ORDER BY rank) FILTER (WHERE reason <> 'pinned') = exact('[1,0,0.3]', 3, 'category <> ''clearance'' AND id NOT IN (21, 30, 61)') AS rest_in_order
  FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1);
SELECT id, rank, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 5, exclude => '{30}', lambda => 1) WHERE reason = 'pinned';
SELECT id, rank, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 5, filter => 'embedding IS NOT NULL', lambda => 1) WHERE reason = 'pinned';
INSERT INTO vecrec.rules (catalog, action, item_id) VALUES ('shop', 'block', 30);
SELECT id, rank, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1) WHERE reason = 'pinned';
-- two pins for one slot: the older rule keeps it, the other takes the next slot
INSERT INTO vecrec.rules (catalog, action, item_id, value) VALUES ('shop', 'pin', 33, 4);
SELECT id, rank, reason FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1) ORDER BY rank;
DELETE FROM vecrec.rules WHERE action = 'pin' OR item_id = 30;

-- cap: at most value rows per brand; more candidates are fetched when caps leave too few
INSERT INTO vecrec.rules (catalog, action, group_by, value) VALUES ('shop', 'cap', 'brand', 1);
SELECT count(*), count(DISTINCT s.brand) FROM vecrec.recommend('shop', '[1,0,0.3]', 3, candidates => 3, lambda => 1) r JOIN shop s USING (id);
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1);   -- three brands: three rows
UPDATE vecrec.rules SET value = 2, match = '{"category": "shoes"}' WHERE action = 'cap';   -- only shoes are capped
SELECT s.category, count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 20, lambda => 1) r JOIN shop s USING (id)
 GROUP BY 1 ORDER BY 1;
DELETE FROM vecrec.rules WHERE action = 'cap';

-- a NULL query falls back to popularity: most interacted items, then the newest
INSERT INTO vecrec.events (catalog, item_id, event) VALUES ('shop', 5, 'click'), ('shop', 5, 'view'), ('shop', 9, 'view'),
	('shop', 4, 'view'), ('shop', 4, 'click'), ('shop', 4, 'purchase'), ('shop', 12, 'view');
SELECT id, rank, score, reason FROM vecrec.recommend('shop', NULL, 6);
SELECT id, rank, score, reason FROM vecrec.recommend('shop', NULL, 3, filter => 'price > 50', exclude => '{4}');
DELETE FROM vecrec.events;

-- the caller's index settings are restored, inside a transaction too
BEGIN;
SET LOCAL hnsw.ef_search = 33;
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 5);
SHOW hnsw.ef_search;
SHOW search_path;
SHOW hnsw.iterative_scan;
COMMIT;

-- the filter runs with the caller's rights
CREATE ROLE regress_reco_app;
CREATE TABLE secret (x int);
SET ROLE regress_reco_app;
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1);
RESET ROLE;
GRANT SELECT ON shop TO regress_reco_app;
SET ROLE regress_reco_app;
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 5, lambda => 1);
SELECT count(*) FROM vecrec.recommend('shop', '[1,0,0.3]', 5, filter => 'EXISTS (SELECT FROM public.secret)', lambda => 1);
RESET ROLE;
REVOKE SELECT ON shop FROM regress_reco_app;
DROP ROLE regress_reco_app;

DROP FUNCTION reco, exact, mmr_expected;
SELECT vecrec.untrack('shop');
DROP TABLE shop, not_tracked, secret;
