"""The one list of plugin libraries linked into //:proxy and //:proxyctl.

Every entry is an alwayslink library that registers its factory by name (api/registry.h), so
linking it is all it takes to make its name valid in a config file.
"""

HASH_PLUGINS = [
    "//hashes/functions:crc16",
    "//hashes/functions:crc32",
    "//hashes/functions:crc32a",
    "//hashes/functions:fnv1_32",
    "//hashes/functions:fnv1_64",
    "//hashes/functions:fnv1a_32",
    "//hashes/functions:fnv1a_64",
    "//hashes/functions:hsieh",
    "//hashes/functions:jenkins",
    "//hashes/functions:md5",
    "//hashes/functions:murmur",
    "//hashes/functions:one_at_a_time",
]

DISTRIBUTION_PLUGINS = [
    "//hashes/distributions:ketama",
    "//hashes/distributions:modula",
    "//hashes/distributions:random",
    "//hashes/distributions:redis_cluster",
]

PROTOCOL_PLUGINS = [
    "//protocols/memcache:codec",
    "//protocols/redis:codec",
]

FILTER_PLUGINS = [
    "//filters/command_policy",
    "//filters/hash_tag",
    "//filters/key_prefix",
    "//filters/reject_unsupported",
    "//filters/router",
    "//filters/stats",
]

DISCOVERY_PLUGINS = [
    "//protocols/redis/cluster",
    "//protocols/redis/sentinel",
]

PLUGINS = HASH_PLUGINS + DISTRIBUTION_PLUGINS + PROTOCOL_PLUGINS + FILTER_PLUGINS + DISCOVERY_PLUGINS
