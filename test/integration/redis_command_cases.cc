// The redis command matrix (test/integration/redis_command_cases.h).
#include "test/integration/redis_command_cases.h"

#include <utility>

namespace proxy::test {

std::vector<Case> CommandCases() {
  std::vector<Case> c;
  auto w = [&](std::vector<std::string> args, int key_at = 1) {
    c.push_back({std::move(args), false, key_at});
  };
  auto r = [&](std::vector<std::string> args) { c.push_back({std::move(args), true, 1}); };
  // Strings.
  w({"SET", "str:a", "hello"});
  r({"GET", "str:a"});
  r({"get", "str:a"});
  w({"APPEND", "str:a", " world"});
  r({"STRLEN", "str:a"});
  r({"GETRANGE", "str:a", "0", "4"});
  w({"SETRANGE", "str:a", "6", "WORLD"});
  r({"GET", "str:a"});
  w({"SET", "str:n", "10"});
  w({"INCR", "str:n"});
  w({"INCRBY", "str:n", "5"});
  w({"DECR", "str:n"});
  w({"DECRBY", "str:n", "3"});
  w({"INCRBYFLOAT", "str:n", "1.5"});
  w({"INCR", "str:a"});  // -ERR value is not an integer, passed through
  w({"GETSET", "str:a", "new"});
  w({"SETNX", "str:a", "x"});
  w({"SETNX", "str:b", "y"});
  w({"SETEX", "str:c", "1000", "v"});
  w({"PSETEX", "str:d", "1000000", "v"});
  w({"SET", "str:e", "v", "NX"});
  w({"SET", "str:e", "w", "XX", "GET"});
  w({"GETEX", "str:e", "PERSIST"});
  w({"GETDEL", "str:e"});
  r({"GET", "str:e"});
  w({"SET", "str:f", ""});
  r({"GET", "str:f"});
  w({"GET", ""}, 0);
  w({"MSETNX", "{str}x", "1", "{str}y", "2"});
  w({"MGET", "{str}x", "{str}y", "{str}z"});
  w({"SET", "str:g"});           // wrong arity: redis's own text
  w({"GET", "str:a", "str:b"});  // wrong arity: redis's own text
  r({"TYPE", "str:a"});
  w({"EXISTS", "str:a"});
  // Keys and expiry.
  w({"SET", "ex:1", "v"});
  w({"EXPIRE", "ex:1", "1000"});
  r({"TTL", "ex:1"});
  w({"EXPIRE", "ex:1", "500", "GT"});
  w({"PEXPIRE", "ex:1", "2000000"});
  r({"TTL", "ex:1"});
  w({"PERSIST", "ex:1"});
  r({"TTL", "ex:1"});
  w({"EXPIREAT", "ex:1", "4102444800"});
  w({"PEXPIREAT", "ex:1", "4102444800000"});
  r({"TTL", "ex:missing"});
  r({"PTTL", "ex:missing"});
  w({"SET", "{k}a", "1"});
  w({"COPY", "{k}a", "{k}b"});
  w({"RENAME", "{k}b", "{k}c"});
  w({"RENAMENX", "{k}c", "{k}a"});
  w({"DEL", "{k}a"});
  w({"UNLINK", "{k}c"});
  w({"TOUCH", "str:a"});
  // Hashes (few small fields: listpack encoding, deterministic order).
  w({"HSET", "h:1", "f1", "v1", "f2", "v2"});
  r({"HGET", "h:1", "f1"});
  w({"HMSET", "h:1", "f3", "v3"});
  r({"HMGET", "h:1", "f1", "f3", "nofield"});
  r({"HGETALL", "h:1"});
  r({"hgetall", "h:1"});
  r({"HKEYS", "h:1"});
  r({"HVALS", "h:1"});
  r({"HLEN", "h:1"});
  r({"HEXISTS", "h:1", "f2"});
  w({"HDEL", "h:1", "f2"});
  w({"HINCRBY", "h:1", "n", "5"});
  w({"HINCRBYFLOAT", "h:1", "x", "2.5"});
  w({"HSETNX", "h:1", "f1", "zz"});
  r({"HSTRLEN", "h:1", "f1"});
  r({"HSCAN", "h:1", "0"});
  w({"HSET", "h:2", "only", "1"});
  r({"HRANDFIELD", "h:2"});
  w({"HSET", "h:1", "f"});    // wrong arity
  w({"HGET", "str:a", "f"});  // -WRONGTYPE passed through
  // Lists.
  w({"RPUSH", "l:1", "a", "b", "c"});
  w({"LPUSH", "l:1", "z"});
  r({"LRANGE", "l:1", "0", "-1"});
  r({"LINDEX", "l:1", "1"});
  w({"LSET", "l:1", "0", "y"});
  w({"LINSERT", "l:1", "BEFORE", "b", "x"});
  r({"LLEN", "l:1"});
  r({"LPOS", "l:1", "b"});
  w({"LREM", "l:1", "1", "x"});
  w({"LTRIM", "l:1", "0", "2"});
  w({"LPOP", "l:1"});
  w({"RPOP", "l:1"});
  w({"LPUSHX", "l:1", "q"});
  w({"RPUSHX", "l:nope", "q"});
  w({"LPOP", "l:1", "2"});
  w({"RPUSH", "{l}a", "1", "2", "3"});
  w({"RPOPLPUSH", "{l}a", "{l}b"});
  w({"LMOVE", "{l}a", "{l}b", "LEFT", "RIGHT"});
  r({"LRANGE", "{l}b", "0", "-1"});
  w({"RPUSH", "l:n", "3", "1", "2"});
  w({"SORT", "l:n"});
  w({"SORT", "l:n", "DESC", "LIMIT", "0", "2"});
  w({"LPUSH", "str:a", "x"});  // -WRONGTYPE
  // Sets (integer members: intset encoding, sorted and deterministic).
  w({"SADD", "s:1", "3", "1", "2"});
  r({"SMEMBERS", "s:1"});
  r({"SISMEMBER", "s:1", "2"});
  r({"SMISMEMBER", "s:1", "1", "9"});
  r({"SCARD", "s:1"});
  w({"SREM", "s:1", "3"});
  r({"SSCAN", "s:1", "0"});
  w({"SADD", "{s}a", "1", "2", "3"});
  w({"SADD", "{s}b", "2", "3", "4"});
  w({"SINTER", "{s}a", "{s}b"});
  w({"SUNION", "{s}a", "{s}b"});
  w({"SDIFF", "{s}a", "{s}b"});
  w({"SINTERSTORE", "{s}i", "{s}a", "{s}b"});
  w({"SUNIONSTORE", "{s}u", "{s}a", "{s}b"});
  w({"SDIFFSTORE", "{s}d", "{s}a", "{s}b"});
  w({"SMOVE", "{s}a", "{s}b", "1"});
  w({"SINTERCARD", "2", "{s}a", "{s}b"}, 0);
  w({"SADD", "s:one", "7"});
  r({"SRANDMEMBER", "s:one"});
  w({"SPOP", "s:one"});
  // Sorted sets.
  w({"ZADD", "z:1", "1", "a", "2", "b", "3", "c", "4", "d"});
  r({"ZRANGE", "z:1", "0", "-1", "WITHSCORES"});
  r({"ZSCORE", "z:1", "b"});
  w({"ZINCRBY", "z:1", "2", "a"});
  r({"ZRANK", "z:1", "a"});
  r({"ZREVRANK", "z:1", "a"});
  r({"ZCOUNT", "z:1", "1", "3"});
  r({"ZLEXCOUNT", "z:1", "-", "+"});
  r({"ZRANGEBYSCORE", "z:1", "1", "3", "WITHSCORES"});
  r({"ZREVRANGE", "z:1", "0", "-1"});
  r({"ZRANGEBYLEX", "z:1", "-", "+"});
  r({"ZREVRANGEBYSCORE", "z:1", "+inf", "-inf"});
  r({"ZREVRANGEBYLEX", "z:1", "+", "-"});
  r({"ZMSCORE", "z:1", "a", "nope"});
  r({"ZCARD", "z:1"});
  r({"ZSCAN", "z:1", "0"});
  w({"ZREM", "z:1", "c"});
  w({"ZPOPMIN", "z:1"});
  w({"ZPOPMAX", "z:1"});
  w({"ZADD", "z:1", "5", "e", "6", "f", "7", "g", "8", "h"});
  w({"ZREMRANGEBYRANK", "z:1", "0", "0"});
  w({"ZREMRANGEBYSCORE", "z:1", "7", "7"});
  w({"ZREMRANGEBYLEX", "z:1", "[h", "[h"});
  w({"ZADD", "z:one", "1", "m"});
  r({"ZRANDMEMBER", "z:one"});
  w({"ZADD", "{z}a", "1", "x", "2", "y"});
  w({"ZADD", "{z}b", "3", "y", "4", "w"});
  w({"ZUNION", "2", "{z}a", "{z}b", "WITHSCORES"}, 0);
  w({"ZINTER", "2", "{z}a", "{z}b"}, 0);
  w({"ZDIFF", "2", "{z}a", "{z}b"}, 0);
  w({"ZINTERCARD", "2", "{z}a", "{z}b"}, 0);
  w({"ZUNIONSTORE", "{z}u", "2", "{z}a", "{z}b"});
  w({"ZINTERSTORE", "{z}i", "2", "{z}a", "{z}b"});
  w({"ZDIFFSTORE", "{z}d", "2", "{z}a", "{z}b"});
  w({"ZRANGESTORE", "{z}r", "{z}a", "0", "-1"});
  // HyperLogLog.
  w({"PFADD", "hll:1", "a", "b", "c", "d"});
  r({"PFCOUNT", "hll:1"});
  w({"PFADD", "{hll}a", "a", "b"});
  w({"PFADD", "{hll}b", "b", "c"});
  w({"PFMERGE", "{hll}m", "{hll}a", "{hll}b"});
  r({"PFCOUNT", "{hll}m"});
  w({"PFCOUNT", "{hll}a", "{hll}b"});
  // Geo.
  w({"GEOADD", "geo:1", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"});
  r({"GEODIST", "geo:1", "Palermo", "Catania", "km"});
  r({"GEOPOS", "geo:1", "Palermo", "nowhere"});
  r({"GEOHASH", "geo:1", "Palermo", "Catania"});
  w({"GEORADIUS", "geo:1", "15", "37", "200", "km", "WITHDIST", "ASC"});
  w({"GEORADIUSBYMEMBER", "geo:1", "Palermo", "200", "km", "ASC"});
  r({"GEOSEARCH", "geo:1", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC", "WITHCOORD"});
  w({"GEOADD", "{geo}src", "13.361389", "38.115556", "Palermo"});
  w({"GEOSEARCHSTORE", "{geo}dst", "{geo}src", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km"});
  // Bitmaps.
  w({"SETBIT", "bm:1", "7", "1"});
  w({"SETBIT", "bm:1", "100", "1"});
  r({"GETBIT", "bm:1", "7"});
  r({"BITCOUNT", "bm:1"});
  r({"BITCOUNT", "bm:1", "0", "0"});
  r({"BITPOS", "bm:1", "1"});
  r({"BITPOS", "bm:1", "0"});
  w({"BITFIELD", "bm:1", "INCRBY", "u8", "16", "5", "GET", "u8", "16"});
  w({"SET", "{bm}a", "foo"});
  w({"SET", "{bm}b", "bar"});
  w({"BITOP", "AND", "{bm}c", "{bm}a", "{bm}b"}, 2);
  r({"GET", "{bm}c"});
  // Scripts with one key (and two colocated keys).
  w({"EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "ev:1", "hello"}, 3);
  w({"EVAL", "return redis.call('GET', KEYS[1])", "1", "ev:1"}, 3);
  w({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "ev:1"}, 3);  // script error
  w({"EVAL", "return {KEYS[1], KEYS[2], ARGV[1]}", "2", "{ev}a", "{ev}b", "arg"}, 0);
  // Answered by the proxy itself, exactly as redis does.
  w({"PING"}, 0);
  w({"ping", "hello"}, 0);
  w({"ECHO", "hi there"}, 0);
  w({"LOLWUT"}, 0);
  w({"COMMAND", "COUNT"}, 0);
  w({"COMMAND", "INFO", "get", "mset"}, 0);
  return c;
}

}  // namespace proxy::test
