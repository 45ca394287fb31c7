-- feedback and metrics: impressions, events, ctr, coverage, zero-impression items, profiles
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE TABLE fshop (id bigint PRIMARY KEY, category text, embedding vector(2));
INSERT INTO fshop SELECT i, (ARRAY['a', 'b'])[i % 2 + 1], ARRAY[cos(i * 0.5), sin(i * 0.5)]::vector
  FROM generate_series(1, 20) i;
CREATE TABLE fshop2 (id int PRIMARY KEY, embedding vector(2));
INSERT INTO fshop2 VALUES (1, '[1,0]'), (2, '[0,1]');
RESET client_min_messages;
SELECT vecrec.track('fshop');
SHOW vecrec.log_impressions;

-- one impression per returned row, under the request id of the call
SELECT vecrec.last_request_id() IS NULL AS no_request_yet;
SELECT count(*) FROM vecrec.recommend('fshop', '[1,0]', 5, surface => 'pdp', lambda => 1);
SELECT count(*) AS rows, count(DISTINCT request_id) AS requests, min(rank), max(rank),
       bool_and(request_id = vecrec.last_request_id()) AS same_id, bool_and(surface = 'pdp') AS surface,
       bool_and(catalog = 'fshop'::regclass) AS catalog
  FROM vecrec.impressions;
SELECT array_agg(i.item_id ORDER BY i.rank) = array_agg(r.id ORDER BY r.rank) AS same_items
  FROM vecrec.impressions i
  JOIN (SELECT * FROM vecrec.preview('fshop', '[1,0]', 5, lambda => 1)) r ON r.rank = i.rank;
SELECT count(*) FROM vecrec.impressions;   -- preview logs nothing
-- switched off: nothing logged, but a new request id all the same
SET vecrec.log_impressions = off;
CREATE TEMP TABLE prev AS SELECT vecrec.last_request_id() AS id;
SELECT count(*) FROM vecrec.recommend('fshop', '[0,1]', 3, surface => 'home', lambda => 1);
SELECT count(*), vecrec.last_request_id() <> (SELECT id FROM prev) AS new_id FROM vecrec.impressions;
RESET vecrec.log_impressions;
SET vecrec.log_impressions = 'nonsense';

-- events: the type must be in vecrec.event_weights; catalog and surface come from the request
\set VERBOSITY terse
SELECT vecrec.log_event('u1', 's1', 1, 'kiss');   -- the hint lists the event types
\set VERBOSITY default
SELECT vecrec.log_event('u1', 's1', NULL, 'click');
SELECT vecrec.log_event('u1', 's1', (SELECT item_id FROM vecrec.impressions WHERE rank = 1), 'click',
                        request_id => (SELECT request_id FROM vecrec.impressions LIMIT 1)) > 0 AS logged;
SELECT catalog, user_id, session_id, event, surface, request_id IS NOT NULL AS has_request FROM vecrec.events;
-- one tracked catalog: it is the default; with two, the caller must say which
SELECT vecrec.log_event('u2', NULL, 3, 'view') > 0 AS logged;
SELECT vecrec.track('fshop2');
SELECT vecrec.log_event('u2', NULL, 3, 'view');
SELECT vecrec.log_event('u2', NULL, 2, 'purchase', catalog => 'fshop2') > 0 AS logged;
SELECT catalog, user_id, item_id, event, surface FROM vecrec.events ORDER BY id;

-- ctr: click events per impression on a surface
SELECT vecrec.ctr('pdp', '1 hour');
SELECT vecrec.ctr(NULL, '1 hour');
SELECT vecrec.ctr('nowhere', '1 hour');
SELECT vecrec.log_event('u3', NULL, 2, 'click', surface => 'pdp', catalog => 'fshop') > 0 AS logged;
SELECT vecrec.ctr('pdp', '1 hour');
UPDATE vecrec.impressions SET at = at - interval '2 hours';
SELECT vecrec.ctr('pdp', '1 hour');

-- coverage: share of the catalog's rows shown at least once; items never shown
SELECT vecrec.coverage('fshop', '1 hour');
SELECT vecrec.coverage('fshop', '1 day');
SELECT array_agg(id) FROM vecrec.zero_impression_items('fshop');
SELECT count(*) FROM vecrec.zero_impression_items('fshop', '1 hour');
SELECT vecrec.coverage('not_a_table', '1 day');
SELECT vecrec.coverage('fshop2', '1 day');

-- profiles: per user, the event-weighted, decayed mean of the embeddings
DELETE FROM vecrec.events;
INSERT INTO vecrec.events (catalog, user_id, item_id, event, at) VALUES
	('fshop', 'ann', 1, 'view', now()), ('fshop', 'ann', 4, 'purchase', now()),
	('fshop', 'bob', 7, 'click', now() - interval '7 days'),
	('fshop', NULL, 9, 'view', now()),
	('fshop2', 'ann', 1, 'view', now());
SELECT vecrec.refresh_profiles('fshop');
SELECT catalog, user_id, events, vector_dims(embedding) FROM vecrec.user_profiles ORDER BY 1, 2;
-- ann: (w(view) * e1 + w(purchase) * e4) normalised; bob: e7 (one event, decay does not change the direction)
SELECT p.user_id, (p.embedding <=> x.expected) < 1e-6 AS as_expected
  FROM vecrec.user_profiles p
  JOIN (SELECT 'ann' AS user_id,
               ARRAY[vecrec.event_weight('view') * a.v[1] + vecrec.event_weight('purchase') * b.v[1],
                     vecrec.event_weight('view') * a.v[2] + vecrec.event_weight('purchase') * b.v[2]]::vector AS expected
          FROM (SELECT embedding::real[] v FROM fshop WHERE id = 1) a,
               (SELECT embedding::real[] v FROM fshop WHERE id = 4) b
        UNION ALL
        SELECT 'bob', embedding FROM fshop WHERE id = 7) x USING (user_id)
 ORDER BY 1;
INSERT INTO vecrec.events (catalog, user_id, item_id, event) VALUES ('fshop', 'bob', 2, 'purchase');
SELECT vecrec.refresh_profiles('fshop', '1 day');
SELECT user_id, events FROM vecrec.user_profiles ORDER BY 1;
SELECT vecrec.refresh_profiles('fshop', '0 days');

SELECT vecrec.untrack('fshop');
SELECT vecrec.untrack('fshop2');
DELETE FROM vecrec.events;
DELETE FROM vecrec.impressions;
DELETE FROM vecrec.user_profiles;
DROP TABLE fshop, fshop2;
