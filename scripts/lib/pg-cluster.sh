# Sourced by the benchmarks: starts a throwaway PostgreSQL cluster on a free loopback port and removes it on exit
# (/work/shared/notes recipe: initdb as the postgres user when run as root, scram-sha-256 over TCP, fsync off).
# Sets PG_DIR, PG_PORT; `pg_fresh NAME` creates database NAME owned by swg and prints its ledger-bench target
# (host:port/database/user/password-file); `pg_store_table NAME STATE_DIR` prints a [store] table for gateway.toml.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DIR=$(mktemp -d /tmp/swg-bench-pg.XXXXXX); chmod 755 "$PG_DIR"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PG_AS=(); [ "$(id -u)" = 0 ] && { chown postgres: "$PG_DIR"; PG_AS=(runuser -u postgres --); }
echo "super-$RANDOM$RANDOM" > "$PG_DIR/super.pw"; echo "swg-$RANDOM$RANDOM" > "$PG_DIR/swg.pw"; chmod 644 "$PG_DIR"/*.pw
"${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$PG_DIR/super.pw" --auth-local=peer \
  --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
  "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c max_connections=200" \
  start </dev/null >/dev/null
trap '"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$PG_DIR"' EXIT
pg_super() { PGPASSWORD=$(cat "$PG_DIR/super.pw") psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 -c "$1" >/dev/null; }
pg_super "CREATE ROLE swg LOGIN PASSWORD '$(cat "$PG_DIR/swg.pw")'"
pg_fresh() { pg_super "CREATE DATABASE $1 OWNER swg"; echo "127.0.0.1:$PG_PORT/$1/swg${PG_DIR}/swg.pw"; }
pg_store_table() {
  pg_super "CREATE DATABASE $1 OWNER swg"
  printf '[store]\nkind = "postgres"\nhost = "127.0.0.1"\nport = %s\ndatabase = "%s"\nuser = "swg"\npassword_file = "%s"\nstate_directory = "%s"\n' \
    "$PG_PORT" "$1" "$PG_DIR/swg.pw" "$2"
}
