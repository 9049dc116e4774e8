"""redis-py (Debian python3-redis) through the proxy: default options plus client_name=, its
non-transactional pipeline across shards and its default (transactional) pipeline() on one hash
tag. Usage: python3 redis_py.py HOST PORT PREFIX"""
import sys

import redis

from matrix_common import run


def main():
    host, port, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    r = redis.Redis(host=host, port=port, client_name="matrix")
    keys = [f"{p}:m{i}" for i in range(10)]
    s = lambda v: "nil" if v is None else (v.decode() if isinstance(v, bytes) else
                                           ("OK" if v is True else str(v)))
    lst = lambda vs: ",".join(s(v) for v in vs)

    def pipeline():
        pipe = r.pipeline(transaction=False)
        pipe.set(f"{p}:p1", "x").incr(f"{p}:cnt").get(f"{p}:p1")
        return lst(pipe.execute())

    def multi():
        pipe = r.pipeline()  # transactional by default: MULTI ... EXEC
        pipe.set(f"{p}:{{user1}}:a", "1").incrby(f"{p}:{{user1}}:b", 5).get(f"{p}:{{user1}}:a")
        return lst(pipe.execute())

    steps = [
        ("connect", lambda: s(r.ping()) and "ok"),
        ("set", lambda: s(r.set(f"{p}:k1", "v1"))),
        ("get", lambda: s(r.get(f"{p}:k1"))),
        ("mset", lambda: s(r.mset({k: f"val{i}" for i, k in enumerate(keys)}))),
        ("mget", lambda: lst(r.mget(keys))),
        ("hset", lambda: s(r.hset(f"{p}:h", mapping={"f1": "a", "f2": "b"}))),
        ("hgetall", lambda: ",".join(f"{s(k)}={s(v)}"
                                     for k, v in sorted(r.hgetall(f"{p}:h").items()))),
        ("pipeline", pipeline),
        ("multi", multi),
        ("after-multi", lambda: lst(r.mget([f"{p}:{{user1}}:a", f"{p}:{{user1}}:b"]))),
        ("del", lambda: s(r.delete(f"{p}:k1"))),
        ("quit", lambda: (r.close(), "OK")[1]),
    ]
    run(steps)


if __name__ == "__main__":
    main()
