-- load.sql - make demo, part 1: the sample shop (run by demo/demo.sh with
-- psql variable :words, the word-vector file, and the catalog on standard input).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION vecrec;

\echo 'demo: word vectors (GloVe-100, vecrec.load_word_vectors)'
SELECT vecrec.load_word_vectors(:'words') AS words_loaded \gset
\echo '      ' :words_loaded 'words'

CREATE TABLE products (
	id          bigint PRIMARY KEY,
	title       text NOT NULL,
	description text,
	category    text NOT NULL,
	brand       text,
	price       numeric(10,2) NOT NULL,
	in_stock    boolean NOT NULL,
	created_at  timestamptz NOT NULL,
	embedding   vector(100)
);
-- the freshness trigger embeds title and description on every insert and
-- on updates of those columns
SELECT vecrec.track('products', ARRAY['title', 'description'], embedder => 'vecrec.embed_text');

\echo 'demo: products (COPY; the trigger embeds each row with vecrec.embed_text)'
\copy products (id, title, description, category, brand, price, in_stock, created_at) FROM pstdin
SELECT count(*) AS products, count(embedding) AS embedded FROM products \gset
\echo '      ' :products 'products,' :embedded 'embedded'

\echo 'demo: HNSW index and btrees for the filters'
CREATE INDEX products_embedding ON products USING hnsw (embedding vector_cosine_ops);
CREATE INDEX products_category ON products (category);
CREATE INDEX products_price ON products (price);
ANALYZE products;

\echo 'demo: simulated shopping sessions (fixed seed)'
SELECT setseed(0.42);
-- 400 sessions of 150 users over the last week; each session browses one
-- category (its theme) with 3 to 8 events
INSERT INTO vecrec.events (at, catalog, user_id, session_id, item_id, event, surface)
SELECT s.start + e.n * interval '90 seconds', 'products', s.user_id, s.session_id,
       c.ids[1 + floor(random() * cardinality(c.ids))::int],
       CASE WHEN r < 0.55 THEN 'view' WHEN r < 0.80 THEN 'click' WHEN r < 0.92 THEN 'add_to_cart'
            WHEN r < 0.96 THEN 'wishlist' ELSE 'purchase' END,
       'pdp'
  FROM (SELECT g AS s, 'user-' || (1 + (g * 7919) % 150) AS user_id, 'session-' || g AS session_id,
               now() - (g % 168) * interval '1 hour' - interval '20 minutes' AS start,
               (g * 37) % 14 AS theme, 3 + g % 6 AS nevents
          FROM generate_series(1, 400) g) s
  JOIN (SELECT row_number() OVER (ORDER BY category) - 1 AS theme, array_agg(id ORDER BY id) AS ids
          FROM products GROUP BY category) c USING (theme)
  CROSS JOIN LATERAL generate_series(1, s.nevents) e(n)
  CROSS JOIN LATERAL (SELECT random() + 0 * e.n AS r) x;
SELECT count(*) AS events FROM vecrec.events \gset
\echo '      ' :events 'events'

\echo 'demo: user profiles (vecrec.refresh_profiles)'
SELECT vecrec.refresh_profiles('products') AS profiles \gset
\echo '      ' :profiles 'profiles'

\echo 'demo: recommendations shown on product pages, and clicks on some of them'
DO $$
DECLARE
	s record;
	r record;
	req uuid;
BEGIN
	PERFORM setseed(0.7);
	FOR s IN SELECT DISTINCT ON (e.session_id) e.session_id, e.user_id, e.item_id
	           FROM vecrec.events e ORDER BY e.session_id, e.at DESC LOOP
		req := NULL;
		FOR r IN SELECT rec.id, rec.rank
		           FROM vecrec.recommend('products', (SELECT embedding FROM products WHERE id = s.item_id),
		                                 12, 'pdp', exclude => ARRAY[s.item_id]) rec LOOP
			req := coalesce(req, vecrec.last_request_id());
			-- users click more on the top slots
			IF random() < 0.25 / r.rank THEN
				PERFORM vecrec.log_event(s.user_id, s.session_id, r.id, 'click', 'pdp', req);
			END IF;
		END LOOP;
	END LOOP;
END
$$;
SELECT count(*) AS impressions FROM vecrec.impressions \gset
\echo '      ' :impressions 'impressions'
