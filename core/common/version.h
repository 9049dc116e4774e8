// Version strings: ours, and the twemproxy version we are compatible with (reported where
// existing tools parse it, e.g. the stats JSON "version" field).
#pragma once

namespace proxy {

inline constexpr char kProxyName[] = "shardproxy";
inline constexpr char kProxyVersion[] = "0.1.0";
inline constexpr char kCompatName[] = "nutcracker";
inline constexpr char kCompatVersion[] = "0.5.0";

}  // namespace proxy
