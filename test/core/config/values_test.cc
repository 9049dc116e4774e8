// Tests for twemproxy's scalar value parsers: numbers, booleans, `listen:` and
// `servers:` entries, and the node-name sort order; and for the values of the high-availability
// keys (`replicas:` and `sentinels:` entries, `read_from:`).
#include "core/config/values.h"

#include "api/placement.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxy::config {
namespace {

using ::testing::HasSubstr;

// --- numbers --------------------------------------------------------------------------------

TEST(ParseNumberTest, AcceptsDecimalDigits) {
  for (const auto& [text, value] : std::vector<std::pair<std::string, uint32_t>>{
           {"0", 0}, {"7", 7}, {"512", 512}, {"30000", 30000}, {"2147483647", 2147483647u}}) {
    absl::StatusOr<ParsedNumber> parsed = ParseNumber(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(parsed->value, value) << text;
    EXPECT_FALSE(parsed->wrapped) << text;
  }
}

TEST(ParseNumberTest, AcceptsLeadingZeros) {
  absl::StatusOr<ParsedNumber> parsed = ParseNumber("0042");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->value, 42u);
  EXPECT_FALSE(parsed->wrapped);
}

TEST(ParseNumberTest, RejectsAnythingButDigits) {
  for (const char* text :
       {"", "abc", "-5", "+5", " 5", "5 ", "1e3", "0x10", "5.0", "-0", "1_000"}) {
    absl::StatusOr<ParsedNumber> parsed = ParseNumber(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("is not a number")) << text;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("decimal digits only"));
  }
}

TEST(ParseNumberTest, WrapsAbove32BitsLikeNcAtoiAndReportsIt) {
  // 99999999999 mod 2^32 = 1215752191 (non-negative as an int32: twemproxy accepts it).
  absl::StatusOr<ParsedNumber> parsed = ParseNumber("99999999999");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->value, 1215752191u);
  EXPECT_TRUE(parsed->wrapped);

  parsed = ParseNumber("4294967296");  // 2^32 wraps to 0
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->value, 0u);
  EXPECT_TRUE(parsed->wrapped);

  parsed = ParseNumber("4294967297");  // 2^32 + 1 wraps to 1
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->value, 1u);
  EXPECT_TRUE(parsed->wrapped);
}

TEST(ParseNumberTest, RejectsValuesThatWrapNegative) {
  for (const char* text : {"2147483648", "4294967295", "3000000000"}) {
    absl::StatusOr<ParsedNumber> parsed = ParseNumber(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("out of range"));
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("2147483647"));
  }
}

// --- booleans -------------------------------------------------------------------------------

TEST(ParseBoolTest, AcceptsExactlyLowercaseTrueAndFalse) {
  EXPECT_EQ(ParseBool("true").value(), true);
  EXPECT_EQ(ParseBool("false").value(), false);
}

TEST(ParseBoolTest, RejectsOtherSpellings) {
  for (const char* text : {"yes", "no", "True", "FALSE", "1", "0", "on", "", "true "}) {
    absl::StatusOr<bool> parsed = ParseBool(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("is not \"true\" or \"false\""));
  }
}

// --- listen ---------------------------------------------------------------------------------

config::v1::Listen ListenOk(const std::string& text, std::string* note = nullptr) {
  std::string scratch;
  absl::StatusOr<config::v1::Listen> listen = ParseListen(text, note ? note : &scratch);
  EXPECT_TRUE(listen.ok()) << text << ": " << listen.status();
  return listen.ok() ? *listen : config::v1::Listen();
}

std::string ListenError(const std::string& text) {
  std::string note;
  absl::StatusOr<config::v1::Listen> listen = ParseListen(text, &note);
  EXPECT_FALSE(listen.ok()) << text << " was accepted";
  if (listen.ok()) {
    return "";
  }
  EXPECT_EQ(listen.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(listen.status().message());
}

TEST(ParseListenTest, SplitsHostAndPortAtTheLastColon) {
  config::v1::Listen listen = ListenOk("127.0.0.1:22121");
  EXPECT_EQ(listen.raw(), "127.0.0.1:22121");
  ASSERT_TRUE(listen.has_tcp());
  EXPECT_EQ(listen.tcp().host(), "127.0.0.1");
  EXPECT_EQ(listen.tcp().port(), 22121u);

  listen = ListenOk("localhost:1");
  EXPECT_EQ(listen.tcp().host(), "localhost");
  EXPECT_EQ(listen.tcp().port(), 1u);

  listen = ListenOk("0.0.0.0:65535");
  EXPECT_EQ(listen.tcp().port(), 65535u);
}

TEST(ParseListenTest, AcceptsIpv6WithoutBrackets) {
  config::v1::Listen listen = ListenOk("::1:22121");
  ASSERT_TRUE(listen.has_tcp());
  EXPECT_EQ(listen.tcp().host(), "::1");
  EXPECT_EQ(listen.tcp().port(), 22121u);

  listen = ListenOk("fe80::1:2:3:8080");
  EXPECT_EQ(listen.tcp().host(), "fe80::1:2:3");
  EXPECT_EQ(listen.tcp().port(), 8080u);
}

TEST(ParseListenTest, RejectsBracketedIpv6WithAHint) {
  const std::string message = ListenError("[::1]:22121");
  EXPECT_THAT(message, HasSubstr("'[::1]' is not a valid host"));
  EXPECT_THAT(message, HasSubstr("without brackets"));
  EXPECT_THAT(message, HasSubstr("::1:22121"));
}

TEST(ParseListenTest, AcceptsPortWithLeadingZeros) {
  EXPECT_EQ(ListenOk("127.0.0.1:0080").tcp().port(), 80u);
}

TEST(ParseListenTest, RejectsPortsOutside1To65535) {
  for (const char* text :
       {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:70000", "127.0.0.1:99999999999",
        "127.0.0.1:abc", "127.0.0.1:", "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x"}) {
    const std::string message = ListenError(text);
    EXPECT_THAT(message, HasSubstr("invalid port")) << text;
    EXPECT_THAT(message, HasSubstr("(1..65535)")) << text;
  }
}

TEST(ParseListenTest, RejectsHostWithoutPort) {
  EXPECT_THAT(ListenError("127.0.0.1"),
              HasSubstr("'127.0.0.1' is not \"host:port\" or \"/path/to/socket [permission]\""));
  EXPECT_THAT(ListenError("localhost"), HasSubstr("is not \"host:port\""));
}

TEST(ParseListenTest, RejectsEmptyHost) {
  EXPECT_THAT(ListenError(":22121"), HasSubstr("has an empty host"));
}

TEST(ParseListenTest, UnixSocketWithoutPermissionLeavesModeAlone) {
  std::string note;
  config::v1::Listen listen = ListenOk("/tmp/proxy.sock", &note);
  ASSERT_TRUE(listen.has_unix_socket());
  EXPECT_EQ(listen.unix_socket().path(), "/tmp/proxy.sock");
  EXPECT_EQ(listen.unix_socket().permissions(), 0u);
  EXPECT_EQ(listen.raw(), "/tmp/proxy.sock");
  EXPECT_EQ(note, "");
}

TEST(ParseListenTest, UnixSocketPermissionIsOctalAfterTheLastSpace) {
  std::string note;
  config::v1::Listen listen = ListenOk("/tmp/proxy.sock 0666", &note);
  EXPECT_EQ(listen.unix_socket().path(), "/tmp/proxy.sock");
  EXPECT_EQ(listen.unix_socket().permissions(), 0666u);
  EXPECT_EQ(note, "");
  EXPECT_EQ(ListenOk("/tmp/proxy.sock 600").unix_socket().permissions(), 0600u);
  EXPECT_EQ(ListenOk("/tmp/proxy.sock 0777").unix_socket().permissions(), 0777u);
  // strtol accepts a '+' sign.
  EXPECT_EQ(ListenOk("/tmp/proxy.sock +644").unix_socket().permissions(), 0644u);
  // Split at the last space: the path may contain spaces.
  listen = ListenOk("/tmp/my dir/proxy.sock 0600");
  EXPECT_EQ(listen.unix_socket().path(), "/tmp/my dir/proxy.sock");
  EXPECT_EQ(listen.unix_socket().permissions(), 0600u);
}

TEST(ParseListenTest, RejectsPermissionAbove0777) {
  for (const char* text :
       {"/tmp/p.sock 1777", "/tmp/p.sock 1000", "/tmp/p.sock 77777777", "/tmp/p.sock -1"}) {
    const std::string message = ListenError(text);
    EXPECT_THAT(message, HasSubstr("invalid file permission")) << text;
    EXPECT_THAT(message, HasSubstr("(octal, at most 0777)")) << text;
  }
}

TEST(ParseListenTest, NonOctalPermissionReadsAsStrtolDoesWithANote) {
  std::string note;
  config::v1::Listen listen = ListenOk("/tmp/p.sock 0999", &note);
  EXPECT_EQ(listen.unix_socket().permissions(), 0u);
  EXPECT_THAT(note, HasSubstr("permission '0999' is not an octal number"));
  EXPECT_THAT(note, HasSubstr("read as 0 (the socket is not chmod'ed)"));

  note.clear();
  listen = ListenOk("/tmp/p.sock abc", &note);
  EXPECT_EQ(listen.unix_socket().permissions(), 0u);
  EXPECT_THAT(note, HasSubstr("permission 'abc' is not an octal number"));

  note.clear();
  listen = ListenOk("/tmp/p.sock 0644x", &note);
  EXPECT_EQ(listen.unix_socket().permissions(), 0644u);
  EXPECT_THAT(note, HasSubstr("read as 0644 as twemproxy does"));
}

TEST(ParseListenTest, UnixPathMustFitSunPath) {
  // sun_path is 108 bytes including the terminating NUL: 107 bytes fit.
  const std::string fits = "/" + std::string(106, 'p');
  EXPECT_EQ(ListenOk(fits).unix_socket().path(), fits);
  EXPECT_EQ(ListenOk(fits + " 0600").unix_socket().path(), fits);
  const std::string message = ListenError("/" + std::string(107, 'p'));
  EXPECT_THAT(message, HasSubstr("unix socket path is 108 bytes; the limit is 107"));
}

// --- servers --------------------------------------------------------------------------------

config::v1::Server ServerOk(const std::string& text, std::string* note = nullptr) {
  std::string scratch;
  absl::StatusOr<config::v1::Server> server = ParseServer(text, note ? note : &scratch);
  EXPECT_TRUE(server.ok()) << text << ": " << server.status();
  return server.ok() ? *server : config::v1::Server();
}

std::string ServerError(const std::string& text) {
  std::string note;
  absl::StatusOr<config::v1::Server> server = ParseServer(text, &note);
  EXPECT_FALSE(server.ok()) << text << " was accepted";
  if (server.ok()) {
    return "";
  }
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(server.status().message());
}

TEST(ParseServerTest, HostPortWeightNamesTheNodeHostColonPort) {
  std::string note;
  config::v1::Server server = ServerOk("127.0.0.1:6379:1", &note);
  EXPECT_EQ(server.raw(), "127.0.0.1:6379:1");
  ASSERT_TRUE(server.has_tcp());
  EXPECT_EQ(server.tcp().host(), "127.0.0.1");
  EXPECT_EQ(server.tcp().port(), 6379u);
  EXPECT_EQ(server.weight(), 1u);
  EXPECT_EQ(server.name(), "");
  EXPECT_EQ(server.node_name(), "127.0.0.1:6379");
  EXPECT_EQ(note, "");
}

TEST(ParseServerTest, Port11211NamesTheNodeByHostAlone) {
  config::v1::Server server = ServerOk("10.0.0.1:11211:1");
  EXPECT_EQ(server.tcp().port(), 11211u);
  EXPECT_EQ(server.node_name(), "10.0.0.1");
}

TEST(ParseServerTest, ExplicitNameAfterTheLastSpaceIsTheNodeName) {
  config::v1::Server server = ServerOk("127.0.0.1:6379:3 redis-1");
  EXPECT_EQ(server.name(), "redis-1");
  EXPECT_EQ(server.node_name(), "redis-1");
  EXPECT_EQ(server.weight(), 3u);
  EXPECT_EQ(server.raw(), "127.0.0.1:6379:3 redis-1");
  // Also on port 11211.
  EXPECT_EQ(ServerOk("10.0.0.1:11211:1 mc").node_name(), "mc");
}

TEST(ParseServerTest, Ipv6HostKeepsItsColons) {
  config::v1::Server server = ServerOk("::1:6379:1");
  EXPECT_EQ(server.tcp().host(), "::1");
  EXPECT_EQ(server.tcp().port(), 6379u);
  EXPECT_EQ(server.weight(), 1u);
  EXPECT_EQ(server.node_name(), "::1:6379");
}

TEST(ParseServerTest, UnixSocketNodeNameIsPathFollowedByAColon) {
  config::v1::Server server = ServerOk("/tmp/redis.sock:1");
  EXPECT_EQ(server.unix_path(), "/tmp/redis.sock");
  EXPECT_FALSE(server.has_tcp());
  EXPECT_EQ(server.weight(), 1u);
  EXPECT_EQ(server.node_name(), "/tmp/redis.sock:");

  server = ServerOk("/tmp/redis.sock:2 local");
  EXPECT_EQ(server.unix_path(), "/tmp/redis.sock");
  EXPECT_EQ(server.weight(), 2u);
  EXPECT_EQ(server.node_name(), "local");
}

TEST(ParseServerTest, HostNamesAreNotResolved) {
  config::v1::Server server = ServerOk("no.such.host.invalid:6379:1");
  EXPECT_EQ(server.tcp().host(), "no.such.host.invalid");
}

TEST(ParseServerTest, AcceptsPortWithLeadingZeros) {
  EXPECT_EQ(ServerOk("127.0.0.1:06379:1").tcp().port(), 6379u);
}

TEST(ParseServerTest, RejectsEntriesWithoutWeight) {
  for (const char* text : {"127.0.0.1:6379", "/tmp/redis.sock", "localhost", "redis-1"}) {
    const std::string message = ServerError(text);
    EXPECT_THAT(message, HasSubstr("expected \"host:port:weight [name]\" or "
                                   "\"/path/unix_socket:weight [name]\""))
        << text;
    EXPECT_THAT(message, HasSubstr(text));
  }
}

TEST(ParseServerTest, RejectsZeroWeight) {
  EXPECT_THAT(ServerError("127.0.0.1:6379:0"),
              HasSubstr("'127.0.0.1:6379:0': weight is zero (it must be at least 1)"));
  EXPECT_THAT(ServerError("/tmp/redis.sock:0"), HasSubstr("weight is zero"));
  // 2^32 wraps to 0 in twemproxy's arithmetic: a zero weight too.
  EXPECT_THAT(ServerError("127.0.0.1:6379:4294967296"), HasSubstr("weight is zero"));
}

TEST(ParseServerTest, RejectsInvalidWeight) {
  for (const char* text :
       {"127.0.0.1:6379:-1", "127.0.0.1:6379:x", "127.0.0.1:6379:", "127.0.0.1:6379:+1",
        "127.0.0.1:6379:1.5", "/tmp/redis.sock:x", "127.0.0.1:6379:2147483648"}) {
    const std::string message = ServerError(text);
    EXPECT_THAT(message, HasSubstr("invalid weight")) << text;
    EXPECT_THAT(message, HasSubstr("(a positive whole number)")) << text;
  }
}

TEST(ParseServerTest, NameWithASpaceShiftsTheSplitIntoTheWeight) {
  EXPECT_THAT(ServerError("127.0.0.1:6379:1 my server"), HasSubstr("invalid weight '1 my'"));
}

TEST(ParseServerTest, WeightAbove31BitsWrapsWithANote) {
  std::string note;
  config::v1::Server server = ServerOk("127.0.0.1:6379:99999999999", &note);
  EXPECT_EQ(server.weight(), 1215752191u);
  EXPECT_THAT(note, HasSubstr("weight 99999999999 exceeds 2147483647"));
  EXPECT_THAT(note, HasSubstr("wraps it to 1215752191"));
}

TEST(ParseServerTest, RejectsInvalidPorts) {
  for (const char* text : {"127.0.0.1:0:1", "127.0.0.1:99999:1", "127.0.0.1:abc:1",
                           "127.0.0.1:65536:1", "127.0.0.1::1"}) {
    const std::string message = ServerError(text);
    EXPECT_THAT(message, HasSubstr("invalid port")) << text;
    EXPECT_THAT(message, HasSubstr("(1..65535)")) << text;
  }
}

TEST(ParseServerTest, RejectsEmptyHost) {
  EXPECT_THAT(ServerError(":6379:1"), HasSubstr("has an empty host"));
}

TEST(ParseServerTest, UnixPathMustFitSunPath) {
  const std::string fits = "/" + std::string(106, 's');
  EXPECT_EQ(ServerOk(fits + ":1").unix_path(), fits);
  EXPECT_THAT(ServerError("/" + std::string(107, 's') + ":1"),
              HasSubstr("unix socket path is 108 bytes; the limit is 107"));
}

// --- replicas: entries (a servers: entry without the weight) --------------------------------

TEST(ParseReplicaTest, HostPortAndOptionalNameLikeAServerEntry) {
  absl::StatusOr<v1::Server> replica = ParseReplica("127.0.0.1:6380");
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_EQ(replica->raw(), "127.0.0.1:6380");
  EXPECT_EQ(replica->tcp().host(), "127.0.0.1");
  EXPECT_EQ(replica->tcp().port(), 6380u);
  EXPECT_EQ(replica->weight(), 0u);  // replicas are not weighted
  EXPECT_EQ(replica->name(), "");
  EXPECT_EQ(replica->node_name(), "127.0.0.1:6380");

  replica = ParseReplica("10.0.0.2:06379 shard-a-r1");
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_EQ(replica->tcp().port(), 6379u);
  EXPECT_EQ(replica->name(), "shard-a-r1");
  EXPECT_EQ(replica->node_name(), "shard-a-r1");

  replica = ParseReplica("::1:6380");  // IPv6 without brackets, as for servers
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_EQ(replica->tcp().host(), "::1");

  replica = ParseReplica("/tmp/replica.sock r");
  ASSERT_TRUE(replica.ok()) << replica.status();
  EXPECT_EQ(replica->unix_path(), "/tmp/replica.sock");
  EXPECT_EQ(replica->node_name(), "r");
}

TEST(ParseReplicaTest, ServersAndReplicasShareOneParser) {
  // The same address and name give the same message but for the weight.
  absl::StatusOr<v1::Server> server = ParseServer("127.0.0.1:6380:1 r", nullptr);
  absl::StatusOr<v1::Server> replica = ParseReplica("127.0.0.1:6380 r");
  ASSERT_TRUE(server.ok() && replica.ok());
  EXPECT_EQ(server->tcp().SerializeAsString(), replica->tcp().SerializeAsString());
  EXPECT_EQ(server->node_name(), replica->node_name());
  EXPECT_EQ(ParseReplica("127.0.0.1:11211")->node_name(), "127.0.0.1");  // libmemcached rule
}

TEST(ParseReplicaTest, AWeightIsRejectedAsSuch) {
  for (const char* text : {"127.0.0.1:6380:1", "127.0.0.1:6380:1 r1", "db1:6380:2"}) {
    absl::StatusOr<v1::Server> replica = ParseReplica(text);
    ASSERT_FALSE(replica.ok()) << text;
    EXPECT_THAT(std::string(replica.status().message()),
                HasSubstr("is not a host; expected \"host:port [name]\" or \"/path/unix_socket "
                          "[name]\" (a replica has no weight)"))
        << text;
  }
  EXPECT_EQ(ParseReplica("127.0.0.1:6380:1").status().message(),
            "'127.0.0.1:6380:1': '127.0.0.1:6380' is not a host; expected \"host:port [name]\" "
            "or \"/path/unix_socket [name]\" (a replica has no weight)");
}

TEST(ParseReplicaTest, RejectsBadAddresses) {
  EXPECT_EQ(ParseReplica("127.0.0.1").status().message(),
            "'127.0.0.1': expected \"host:port [name]\" or \"/path/unix_socket [name]\" (a "
            "replica has no weight)");
  EXPECT_EQ(ParseReplica("127.0.0.1:0").status().message(),
            "'127.0.0.1:0': invalid port '0' (1..65535)");
  EXPECT_EQ(ParseReplica(":6380").status().message(), "':6380' has an empty host");
  EXPECT_EQ(ParseReplica("127.0.0.1:6380 ").status().message(),
            "'127.0.0.1:6380 ' has an empty name");
}

// --- sentinels: entries ---------------------------------------------------------------------

TEST(ParseSentinelTest, HostPort) {
  absl::StatusOr<v1::TcpAddress> address = ParseSentinel("127.0.0.1:26379");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host(), "127.0.0.1");
  EXPECT_EQ(address->port(), 26379u);
  address = ParseSentinel("sentinel-1.example:26379");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host(), "sentinel-1.example");
  address = ParseSentinel("fe80::1:26379");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host(), "fe80::1");
}

TEST(ParseSentinelTest, RejectsWithTheReason) {
  const std::string format = "expected \"host:port\" (a sentinel has no weight and no name)";
  EXPECT_EQ(ParseSentinel("127.0.0.1").status().message(), "'127.0.0.1': " + format);
  EXPECT_EQ(ParseSentinel("127.0.0.1:26379 s1").status().message(),
            "'127.0.0.1:26379 s1': " + format);
  EXPECT_EQ(ParseSentinel("/tmp/sentinel.sock:1").status().message(),
            "'/tmp/sentinel.sock:1': " + format);
  EXPECT_EQ(ParseSentinel("127.0.0.1:26379:1").status().message(),
            "'127.0.0.1:26379:1': '127.0.0.1:26379' is not a host; " + format);
  EXPECT_EQ(ParseSentinel("127.0.0.1:70000").status().message(),
            "'127.0.0.1:70000': invalid port '70000' (1..65535)");
  EXPECT_EQ(ParseSentinel(":26379").status().message(), "':26379' has an empty host");
  EXPECT_THAT(std::string(ParseSentinel("[::1]:26379").status().message()),
              HasSubstr("write IPv6 addresses without brackets"));
}

// --- read_from ------------------------------------------------------------------------------

TEST(ParseReadFromTest, EveryNameRoundTrips) {
  for (const char* name : {"master", "prefer_replica", "replica", "any"}) {
    absl::StatusOr<v1::ReadFrom> read_from = ParseReadFrom(name);
    ASSERT_TRUE(read_from.ok()) << name;
    EXPECT_EQ(ReadFromName(*read_from), name);
  }
  EXPECT_EQ(*ParseReadFrom("master"), v1::READ_FROM_MASTER);
  EXPECT_EQ(*ParseReadFrom("prefer_replica"), v1::READ_FROM_PREFER_REPLICA);
  EXPECT_EQ(*ParseReadFrom("replica"), v1::READ_FROM_REPLICA);
  EXPECT_EQ(*ParseReadFrom("any"), v1::READ_FROM_ANY);
}

TEST(ParseReadFromTest, RejectsOtherSpellingsListingTheValidOnes) {
  for (const char* text : {"Master", "slave", "replicas", "prefer-replica", ""}) {
    absl::StatusOr<v1::ReadFrom> read_from = ParseReadFrom(text);
    ASSERT_FALSE(read_from.ok()) << text;
    EXPECT_EQ(read_from.status().message(),
              absl::StrCat("'", text, "' is not a valid read_from (valid: master, "
                           "prefer_replica, replica, any)"));
  }
}

// --- sort order -----------------------------------------------------------------------------

TEST(TwemproxyLessTest, ComparesLengthFirstThenBytes) {
  using ::proxy::TwemproxyLess;
  // twemproxy's string_compare: length first, so the 13-byte "/x/fake.sock:" sorts
  // before the 14-byte "127.0.0.1:9000".
  std::vector<std::string> names = {"/x/fake.sock:", "127.0.0.1:32013", "zname",
                                    "127.0.0.1",     "127.0.0.1:9000",  "/a/longer/path.sock:"};
  std::sort(names.begin(), names.end(), TwemproxyLess);
  EXPECT_EQ(names,
            (std::vector<std::string>{"zname", "127.0.0.1", "/x/fake.sock:", "127.0.0.1:9000",
                                      "127.0.0.1:32013", "/a/longer/path.sock:"}));
  std::vector<std::string> pools = {"aaa", "zz", "b"};
  std::sort(pools.begin(), pools.end(), TwemproxyLess);
  EXPECT_EQ(pools, (std::vector<std::string>{"b", "zz", "aaa"}));
  EXPECT_FALSE(TwemproxyLess("abc", "abc"));
  EXPECT_TRUE(TwemproxyLess("abc", "abd"));
}

}  // namespace
}  // namespace proxy::config
