-- Every object of the extension has a comment, so that \dx+ vecrec and the
-- psql describe commands (\df+ \do+ \dT+ \dC+ \dA+ \dAc+ \dAf+ \dt+ \dn+)
-- explain each one.  The members are the objects pg_depend ties to the
-- extension (deptype 'e'): functions, aggregates, operators, types, casts,
-- operator classes and families, access methods, tables and the schema.
-- Objects added later without a COMMENT ON show up here.

-- the extension itself (comment from vecrec.control)
SELECT obj_description(oid, 'pg_extension') IS NOT NULL AS extension_commented
  FROM pg_extension WHERE extname = 'vecrec';

-- members without a comment, or with a blank one: none
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS member_without_comment
  FROM pg_depend d
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
  LEFT JOIN pg_description c ON c.classoid = d.classid AND c.objoid = d.objid AND c.objsubid = d.objsubid
 WHERE e.extname = 'vecrec' AND d.deptype = 'e' AND coalesce(btrim(c.description), '') = ''
 ORDER BY 1;

-- the check sees members of every kind the script creates
SELECT k.kind, count(d.objid) > 0 AS has_members
  FROM (VALUES ('pg_proc'), ('pg_operator'), ('pg_type'), ('pg_cast'), ('pg_opclass'),
               ('pg_opfamily'), ('pg_am'), ('pg_class'), ('pg_namespace')) k(kind)
  LEFT JOIN (pg_depend d JOIN pg_extension e
             ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
            AND e.extname = 'vecrec' AND d.deptype = 'e')
    ON d.classid = k.kind::regclass
 GROUP BY k.kind ORDER BY k.kind;
