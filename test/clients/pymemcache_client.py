"""pymemcache (Debian python3-pymemcache) through the proxy with its default options (text
protocol; set and delete default to noreply). Usage: python3 pymemcache_client.py HOST PORT PREFIX"""
import sys

from pymemcache.client.base import Client

from matrix_common import run


def main():
    host, port, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Client((host, port), timeout=10, connect_timeout=10)
    keys = [f"{p}:m{i}" for i in range(6)]
    ok = lambda b: "OK" if b else "FAILED"
    s = lambda v: "MISS" if v is None else v.decode()

    def setmany():
        return ok(all(c.set(k, f"val{i}") for i, k in enumerate(keys)))

    def getmulti():
        values = c.get_many(keys)
        return ",".join(f"{k[len(p) + 1:]}={s(values.get(k.encode(), values.get(k)))}"
                        for k in sorted(keys))

    def incr():
        c.set(f"{p}:cnt", "5")
        return str(c.incr(f"{p}:cnt", 1))

    run([
        ("set", lambda: ok(c.set(f"{p}:k1", "v1"))),
        ("get", lambda: s(c.get(f"{p}:k1"))),
        ("setmany", setmany),
        ("getmulti", getmulti),
        ("incr", incr),
        ("delete", lambda: ok(c.delete(f"{p}:k1"))),
        ("get-deleted", lambda: s(c.get(f"{p}:k1"))),
        ("quit", lambda: (c.quit(), "OK")[1]),
    ])


if __name__ == "__main__":
    main()
