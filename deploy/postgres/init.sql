-- Minqing's role and databases. The postgres image runs this once, as the superuser, when the
-- container starts on an empty data directory (docker-entrypoint-initdb.d).
--
-- One database per service: a service owns its tables and nobody else's. Each service applies
-- its own migrations when it starts.
--
-- 'minqing-dev' is the development password, also written in MINQING_DATABASE_URL in
-- docker-compose.yml; change both together (see deploy/env.example).

CREATE ROLE minqing WITH LOGIN PASSWORD 'minqing-dev';

CREATE DATABASE minqing_intake OWNER minqing TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE minqing_routing OWNER minqing TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE minqing_notify OWNER minqing TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE minqing_reporting OWNER minqing TEMPLATE template0 ENCODING 'UTF8';

REVOKE ALL ON DATABASE minqing_intake FROM PUBLIC;
REVOKE ALL ON DATABASE minqing_routing FROM PUBLIC;
REVOKE ALL ON DATABASE minqing_notify FROM PUBLIC;
REVOKE ALL ON DATABASE minqing_reporting FROM PUBLIC;
