-- demo.sql - make demo, part 2: recommendations from the sample shop,
-- printed as tables.  Every query here is plain SQL an application (or a
-- merchandiser in psql) would send.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- the product page we look at: the first pair of hiking boots
SELECT id AS pid, title AS ptitle FROM products WHERE title ILIKE '%hiking boots%' ORDER BY id LIMIT 1 \gset
-- a shopper: the user with the most events, and their latest session
SELECT user_id AS uid FROM vecrec.events GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1 \gset
SELECT session_id AS sid FROM vecrec.events WHERE user_id = :'uid' ORDER BY at DESC LIMIT 1 \gset

\echo
\echo '== 1. More like this:' :'ptitle' '(product' :pid ')'
\echo '   SELECT ... FROM vecrec.recommend(''products'', <its embedding>, 8, ''pdp'', exclude => ARRAY[id])'
SELECT r.rank, p.id, p.title, p.category, p.price, p.in_stock, round(r.score::numeric, 3) AS score, r.reason
  FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 8, 'pdp',
                        exclude => ARRAY[:pid]::bigint[]) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 2. The same, only what is in stock and under 100:  filter => ''in_stock AND price < 100'''
SELECT r.rank, p.id, p.title, p.category, p.price, p.in_stock, round(r.score::numeric, 3) AS score, r.reason
  FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 8, 'pdp',
                        filter => 'in_stock AND price < 100', exclude => ARRAY[:pid]::bigint[]) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 3. For this shopper (' :'uid' '): blend of the product (0.5), the session (0.3, half-life 30 min) and the profile (0.2)'
WITH session AS (
	SELECT vecrec.session_vector(p.embedding, vecrec.event_weight(e.event), e.at, '30 minutes') AS v
	  FROM (SELECT * FROM vecrec.events WHERE session_id = :'sid' ORDER BY at DESC LIMIT 20) e
	  JOIN products p ON p.id = e.item_id),
q AS (
	SELECT vecrec.blend(ARRAY[(SELECT embedding FROM products WHERE id = :pid), (SELECT v FROM session),
	                          (SELECT embedding FROM vecrec.user_profiles WHERE catalog = 'products'::regclass AND user_id = :'uid')],
	                    ARRAY[0.5, 0.3, 0.2]) AS v)
SELECT r.rank, p.id, p.title, p.category, p.price, round(r.score::numeric, 3) AS score, r.reason
  FROM q, vecrec.recommend('products', q.v, 8, 'pdp', filter => 'in_stock', exclude => ARRAY[:pid]::bigint[]) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 4. Cart upsell: MMR (lambda 0.5) and at most 2 per category (a cap rule on surface ''cart'')'
INSERT INTO vecrec.rules (catalog, surface, action, group_by, value, note)
VALUES ('products', 'cart', 'cap', 'category', 2, 'demo: at most two per category in the cart upsell');
WITH cart AS (SELECT item_id FROM vecrec.events WHERE user_id = :'uid' AND event IN ('add_to_cart', 'click')
               ORDER BY at DESC LIMIT 3)
SELECT r.rank, p.id, p.title, p.category, p.price, round(r.score::numeric, 3) AS score, r.reason
  FROM vecrec.recommend('products',
                        (SELECT vecrec.blend(array_agg(p.embedding), array_agg(1.0::float8)) FROM cart JOIN products p ON p.id = cart.item_id),
                        8, 'cart', filter => 'in_stock', exclude => (SELECT array_agg(item_id) FROM cart), lambda => 0.5) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 5. A merchandiser searches with words: "waterproof hiking boots under 150"'
\echo '   vecrec.recommend(''products'', vecrec.embed_text(''waterproof hiking boots''), 8, filter => ''price < 150'', lambda => 1)'
SELECT r.rank, p.id, p.title, p.category, p.price, round(r.score::numeric, 3) AS score
  FROM vecrec.recommend('products', vecrec.embed_text('waterproof hiking boots'), 8,
                        filter => 'price < 150', lambda => 1) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 6. Rules from psql: pin a product to slot 1 and block a brand on product pages'
SELECT p.brand AS blocked_brand FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 8, 'pdp',
       exclude => ARRAY[:pid]::bigint[]) r JOIN products p ON p.id = r.id WHERE r.rank = 2 \gset
SELECT id AS pinned FROM products WHERE category = 'outdoor' AND in_stock AND title ILIKE '%backpack%' ORDER BY id LIMIT 1 \gset
INSERT INTO vecrec.rules (catalog, surface, action, item_id, value, note)
VALUES ('products', 'pdp', 'pin', :pinned, 1, 'demo: promote a backpack');
INSERT INTO vecrec.rules (catalog, surface, action, match, note)
VALUES ('products', 'pdp', 'block', jsonb_build_object('brand', :'blocked_brand'), 'demo: brand out of contract');
SELECT id, action, item_id, match, value, note FROM vecrec.rules ORDER BY id;
\echo '   after (compare with list 1):'
SELECT r.rank, p.id, p.title, p.brand, p.price, round(r.score::numeric, 3) AS score, r.reason
  FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 8, 'pdp',
                        exclude => ARRAY[:pid]::bigint[]) r
  JOIN products p ON p.id = r.id ORDER BY r.rank;

\echo '== 7. Metrics'
SELECT round(vecrec.ctr('pdp', '7 days')::numeric, 4) AS ctr_pdp,
       round(vecrec.coverage('products', '7 days')::numeric, 4) AS coverage,
       (SELECT count(*) FROM vecrec.zero_impression_items('products')) AS not_shown_72h,
       (SELECT round(vecrec.diversity(array_agg(p.embedding))::numeric, 3)
          FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 12, 'pdp', lambda => 1) r
          JOIN products p ON p.id = r.id) AS diversity_lambda_1,
       (SELECT round(vecrec.diversity(array_agg(p.embedding))::numeric, 3)
          FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = :pid), 12, 'pdp', lambda => 0.5) r
          JOIN products p ON p.id = r.id) AS diversity_lambda_05;
