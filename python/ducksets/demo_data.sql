-- The demo database: a small code-intelligence store in the shape of the
-- codeintel catalog (core, graph and analytics tables, docs views), with
-- a few hundred deterministic rows. Not part of the pack.
CREATE SCHEMA core;
CREATE SCHEMA graph;
CREATE SCHEMA analytics;
CREATE SCHEMA docs;

CREATE TABLE core.modules (
    module   VARCHAR NOT NULL,
    path     VARCHAR NOT NULL,
    repo     VARCHAR,
    language VARCHAR,
    PRIMARY KEY (module, path)
);
INSERT INTO core.modules
SELECT
    'demo.pkg' || (i // 5) || '.mod' || (i % 5),
    'src/demo/pkg' || (i // 5) || '/mod' || (i % 5) || '.py',
    'demo',
    'python'
FROM range(20) AS r(i);

CREATE TABLE core.goids (
    goid_h128  DECIMAL(38, 0) PRIMARY KEY,
    urn        VARCHAR NOT NULL,
    rel_path   VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,
    qualname   VARCHAR NOT NULL,
    start_line INTEGER,
    end_line   INTEGER,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO core.goids
SELECT
    1000000 + i,
    'goid:demo/' || i,
    'src/demo/pkg' || (i % 20 // 5) || '/mod' || (i % 5) || '.py',
    CASE WHEN i % 7 = 0 THEN 'class' ELSE 'function' END,
    'demo.pkg' || (i % 20 // 5) || '.mod' || (i % 5) || '.f' || i,
    10 * (i // 20) + 1,
    10 * (i // 20) + 1 + i % 9,
    TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i) MINUTE
FROM range(300) AS r(i);

CREATE TABLE graph.call_graph_edges (
    caller_goid_h128 DECIMAL(38, 0) NOT NULL,
    callee_goid_h128 DECIMAL(38, 0),
    callsite_path    VARCHAR NOT NULL,
    callsite_line    INTEGER NOT NULL,
    kind             VARCHAR NOT NULL,
    confidence       DOUBLE
);
INSERT INTO graph.call_graph_edges
SELECT
    1000000 + i % 300,
    CASE WHEN i % 11 = 0 THEN NULL ELSE 1000000 + (i * 7 + 3) % 300 END,
    'src/demo/pkg' || (i % 20 // 5) || '/mod' || (i % 5) || '.py',
    1 + i % 200,
    CASE WHEN i % 11 = 0 THEN 'unresolved' ELSE 'direct' END,
    round(0.5 + (i % 50) / 100.0, 2)
FROM range(600) AS r(i);

CREATE TABLE analytics.function_metrics (
    function_goid_h128    DECIMAL(38, 0),
    qualname              VARCHAR,
    loc                   INTEGER,
    param_count           INTEGER,
    cyclomatic_complexity INTEGER,
    has_docstring         BOOLEAN,
    complexity_bucket     VARCHAR
);
INSERT INTO analytics.function_metrics
SELECT
    goid_h128,
    qualname,
    end_line - start_line + 1,
    (goid_h128 % 4)::INTEGER,
    1 + (goid_h128 % 13)::INTEGER,
    goid_h128 % 3 <> 0,
    CASE WHEN goid_h128 % 13 >= 9 THEN 'high' WHEN goid_h128 % 13 >= 4 THEN 'medium' ELSE 'low' END
FROM core.goids
WHERE kind = 'function';

CREATE VIEW docs.v_function_summary AS
SELECT
    g.goid_h128,
    g.qualname,
    g.rel_path,
    m.loc,
    m.cyclomatic_complexity,
    m.complexity_bucket,
    count(e.callee_goid_h128) AS outgoing_calls
FROM core.goids AS g
JOIN analytics.function_metrics AS m ON m.function_goid_h128 = g.goid_h128
LEFT JOIN graph.call_graph_edges AS e ON e.caller_goid_h128 = g.goid_h128
GROUP BY ALL;

CREATE VIEW docs.v_module_summary AS
SELECT
    mo.module,
    mo.path,
    count(g.goid_h128) AS symbols,
    count(*) FILTER (WHERE g.kind = 'class') AS classes
FROM core.modules AS mo
LEFT JOIN core.goids AS g ON g.rel_path = mo.path
GROUP BY ALL;
