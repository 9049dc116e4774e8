// ClientConnection: the per-client request pipeline (decode, local commands, filter chain, forward, replies in order; docs/design-notes.md).
#include "core/proxy/client_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/command_text.h"
#include "api/stats_names.h"
#include "core/common/log.h"
#include "core/common/version.h"
#include "core/proxy/server_connection.h"
#include "core/proxy/tuning.h"
#include "core/proxy/worker.h"

namespace proxy {
namespace {

// twemproxy's reply text for a failure: strerror(), or "unknown" without an errno (EOF).
// FailRequest's code for a read that read_from: replica cannot serve (no errno says it).
constexpr int kNoLiveReplica = 1 << 20;

const char* ErrorText(int error) {
  if (error == kNoLiveReplica) return "no live replica to read from (read_from: replica)";
  if (error == tls::kTlsHandshakeFailed) {
    return "TLS handshake with the server failed (the proxy's log says why)";
  }
  return error <= 0 ? "unknown" : std::strerror(error);
}

// Replica reads (read_from:): keyed requests that change nothing may go to a replica. INFO
// (every master's), COMMAND/LOLWUT and transactions stay with the masters.
bool ReplicaCanServe(const Request& request) {
  return !request.is_write && !request.broadcast && !request.synthetic_key &&
         (request.kind == CommandKind::kRead || request.kind == CommandKind::kMultiKey);
}

// The client's command name made safe to quote in a one-line error: printable ASCII, bounded.


// When the process started (static initialisation), for INFO's uptime.
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();

// Takes the reply's `wire_size` bytes from `from` into the request's text (whose capacity is
// kept when the request is recycled).
void CopyReplyText(PendingRequest* p, EvBuffer& from, size_t wire_size) {
  p->reply_text.resize(wire_size);
  from.CopyOut(0, wire_size, p->reply_text.data());
  from.Drain(wire_size);
}

// ClientConnection::LiveCount and TakePeakCount: per connection made and deleted, never per
// request.
std::atomic<int64_t> live_connections{0};
std::atomic<int64_t> peak_connections{0};

// A reply or reason made printable and short for one log line.
std::string LogText(absl::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return Quotable(text);
}

}  // namespace

ClientConnection::ClientConnection(PoolRuntime& pool, int fd)
    : pool_(pool), worker_(pool.worker()), fd_(fd) {
  const int64_t live = live_connections.fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t peak = peak_connections.load(std::memory_order_relaxed);
  while (live > peak &&
         !peak_connections.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
  }
  event_assign(&read_event_, worker_.base(), fd_, EV_READ | EV_PERSIST, &OnRead, this);
  if (pool_.shared().tls != nullptr) {
    rare().tls = tls::TlsSession::Accept(pool_.shared().tls, fd_);
    if (rare_->tls == nullptr) {  // no memory: closed at once (Start)
      error_ = true;
      lifecycle_.CloseInput();
    }
  }
}

void ClientConnection::Start() {
  worker_.ConnectionOpened();
  ResumeReading();
  if (!lifecycle_.input_open()) MaybeClose();  // no TLS session could be made
}

ClientConnection::~ClientConnection() {
  event_del(&read_event_);
  live_connections.fetch_sub(1, std::memory_order_relaxed);
}

int64_t ClientConnection::LiveCount() { return live_connections.load(std::memory_order_relaxed); }

int64_t ClientConnection::TakePeakCount() {
  return peak_connections.exchange(LiveCount(), std::memory_order_relaxed);
}

ClientConnection::RareState::~RareState() {
  if (retry_timer != nullptr) event_free(retry_timer);
  if (write_event != nullptr) event_free(write_event);
  if (close_timer != nullptr) event_free(close_timer);
  if (peer_closed_event != nullptr) event_free(peer_closed_event);
}

const PoolView& ClientConnection::Pool() const { return *this; }

absl::string_view ClientConnection::Name() const { return pool_.Name(); }
const config::v1::Pool& ClientConnection::Config() const { return pool_.Config(); }
const Codec& ClientConnection::PoolCodec() const {
  return codec_ != nullptr ? *codec_ : pool_.PoolCodec();
}
uint32_t ClientConnection::ServerForHashKey(absl::string_view hash_key) const {
  return pool_.ServerForHashKey(hash_key);
}
uint32_t ClientConnection::ShardForHashKey(absl::string_view hash_key) const {
  return pool_.ShardForHashKey(hash_key);
}
uint32_t ClientConnection::ServerOfShard(uint32_t shard) const {
  return pool_.ServerOfShard(shard);
}

void ClientConnection::OnRead(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  self->worker_.UpdateClock();
  self->HandleReadable();
}

void ClientConnection::OnWrite(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  self->worker_.UpdateClock();
  if (self->tls() != nullptr && !self->tls()->established()) {
    self->HandleReadable();  // the handshake waited for the socket to take its bytes
    return;
  }
  self->Flush();
}

bool ClientConnection::ContinueTlsHandshake() {
  tls::TlsSession& tls = *rare_->tls;  // TLS pools only
  switch (tls.Handshake()) {
    case tls::TlsSession::Step::kDone:
      return true;
    case tls::TlsSession::Step::kWantRead:
      return false;  // the read event is on
    case tls::TlsSession::Step::kWantWrite:
      if (rare().write_event == nullptr) {
        rare_->write_event = event_new(worker_.base(), fd_, EV_WRITE, &OnWrite, this);
      }
      event_add(rare_->write_event, nullptr);
      return false;
    case tls::TlsSession::Step::kClosed:  // closed before a byte (a port probe): an EOF
      eof_ = true;
      Close(true);
      return false;
    case tls::TlsSession::Step::kFailed:
      break;
  }
  pool_.stats().tls_handshake_failed.Add(1);
  tls::LogClientHandshakeFailure(pool_.Name(), fd_, tls.error(), worker_.now_us());
  error_ = true;
  Close(false);
  return false;
}

ssize_t ClientConnection::ReadTls(size_t max) {
  tls::TlsSession& tls = *rare_->tls;  // TLS pools only
  if (!tls.established() && !ContinueTlsHandshake()) {
    errno = EAGAIN;
    return -1;
  }
  return tls::ReadInto(tls, in_, max);
}

ssize_t ClientConnection::WriteTls() {
  // Nothing is queued before the handshake ends except a refusal of the connection
  // (client_connections): such a client is closed without it.
  tls::TlsSession& tls = *rare_->tls;  // TLS pools only
  if (!tls.established()) {
    errno = EPIPE;
    return -1;
  }
  return tls::WriteFrom(tls, out_);
}


void ClientConnection::HandleReadable() {
  if (!lifecycle_.input_open()) return;
  size_t chunk = pool_.shared().limits.read_chunk;
  // A large request in progress: read in bigger steps.
  if (in_.Length() > chunk) chunk = std::min<size_t>(in_.Length(), kMaxReadChunk);
  const ssize_t n = tls() == nullptr ? in_.ReadFrom(fd_, chunk) : ReadTls(chunk);
  if (n > 0) {
    ProcessInput();
    ReleaseIdleMemory();
    return;
  }
  if (n == 0) {
    // Half-close: answer what was fully received, then close (an incomplete request is
    // discarded). Bounded: MaybeClose arms a grace timer while replies are still owed, and a
    // failed write closes at once (a client that hung up must not stay in CLOSE_WAIT).
    eof_ = true;
    CloseInput();
    MaybeClose();
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  error_ = true;
  Close(false);
}

bool ClientConnection::OverLimits() const {
  const ProxyLimits& limits = pool_.shared().limits;
  return waiting_on_ != nullptr || queue_.size() >= limits.max_pending_requests ||
         out_.Length() + held_bytes_ >= limits.max_client_output_bytes;
}

void ClientConnection::InitProtocol() {
  // Made on the first bytes, so that an idle connection costs only its socket and buffers.
  // The first byte chooses the codec (memcache's binary protocol starts with 0x80).
  const SharedPool& shared = pool_.shared();
  codec_owner_ = shared.codec;
  char first = 0;
  const size_t have = in_.Length() > 0 ? 1 : 0;
  if (have > 0) in_.CopyOut(0, 1, &first);
  const Codec& codec = codec_owner_->ForClient(absl::string_view(&first, have));
  decoder_ = codec.NewRequestDecoder(shared.limits.decoder);
  for (uint8_t v = 0; v < kMaxVariants; ++v) {
    if (codec_owner_->Variant(v) == &codec) decoder_variant_ = v;
  }
  session_ = codec.NewSession();
  codec_ = &codec;
  variant_ = 0;
  UpdateVariant();
  BuildChain();
}

void ClientConnection::BuildChain() {
  chain_generation_ = static_cast<uint32_t>(pool_.generation());
  chain_ = pool_.shared_chain();
  if (chain_ == nullptr) chain_ = MakeFilterChain(pool_.filter_factories());
}

void ClientConnection::SwitchChain() {
  bool in_use = false;
  for (PendingRequest* p = queue_.front(); p != nullptr && !in_use; p = p->next) {
    in_use = p->chain == chain_.get();
  }
  if (in_use) {
    // Requests still queued ran through the current chain: it stays until they finish.
    auto old = std::make_unique<RetiredChain>();
    old->chain = chain_;
    std::unique_ptr<RetiredChain>* tail = &rare().retired_chains;
    while (*tail != nullptr) tail = &(*tail)->newer;
    *tail = std::move(old);
  }
  BuildChain();
}

void ClientConnection::ReleaseRetiredChains() {
  // Requests are finished in queue order and chains were assigned in that order: once the
  // oldest queued request does not use the oldest retired chain, nothing does.
  std::unique_ptr<RetiredChain>& oldest = rare_->retired_chains;
  while (oldest != nullptr && (queue_.empty() || queue_.front()->chain != oldest->chain.get())) {
    std::unique_ptr<RetiredChain> newer = std::move(oldest->newer);
    oldest = std::move(newer);
  }
}

void ClientConnection::Drain() {
  if (!lifecycle_.Drain()) return;  // closed
  // Requests already received are still answered, also those still in the socket buffer (a
  // close with unread bytes would reset the connection).
  if (lifecycle_.input_open()) {
    HandleReadable();
    if (!lifecycle_.input_open()) return;
    if (reading_ && in_.Length() > 0) return;  // a request partly received: read it all first
    if (finished_ == 0 && queue_.empty() && in_.Length() == 0) {
      // Connected but nothing sent yet: its first request may be on its way. It is answered,
      // then the connection closes (ProcessInput); the drain timeout bounds the wait.
      return;
    }
  }
  StopInputAfterDrain();
}

void ClientConnection::StopInputAfterDrain() {
  eof_ = true;  // an orderly close, counted with the EOFs
  CloseInput();
  if (watching_peer_close_) {
    event_del(rare_->peer_closed_event);
    watching_peer_close_ = false;
  }
  MaybeClose();
}

void ClientConnection::UpdateVariant() {
  const uint8_t variant = session_->Variant();
  if (variant == variant_ && codec_ != nullptr) return;
  const Codec* codec = variant < kMaxVariants ? codec_owner_->Variant(variant) : nullptr;
  if (codec == nullptr) return;  // not a variant of this pool: stay where we are
  variant_ = variant;
  codec_ = codec;
}

void ClientConnection::RewriteReply(PendingRequest* p, std::string* reply) {
  const std::vector<FilterPtr>& filters = p->chain->filters;
  for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
    if ((*it)->RewritesReplies()) (*it)->OnReply(p->request, reply);
  }
}

inline PendingRequest* ClientConnection::DecodeNext(DecodeResult* result) {
  // Decoded into a spare request, kept for the next call while the bytes are incomplete.
  if (spare_ == nullptr) {
    // Nothing buffered (how a read burst usually ends): no request is taken only to be given
    // back by ReleaseIdleMemory (measured with callgrind: that cost an unpipelined GET ~250
    // instructions, more than this check costs a -P 16 batch).
    if (in_.Length() == 0) {
      *result = DecodeResult::kNeedMoreData;
      return nullptr;
    }
    spare_ = worker_.requests().Alloc();
  }
  PendingRequest* p = spare_;
  *result = decoder_->Decode(in_, &p->request, &worker_.client_scratch());
  if (*result == DecodeResult::kNeedMoreData) return nullptr;
  spare_ = nullptr;
  // A reload changed the pool: this request runs with the new settings.
  if (chain_generation_ != static_cast<uint32_t>(pool_.generation())) SwitchChain();
  p->chain = chain_.get();
  p->client = this;
  RetainRequest(p);  // the queue's reference, dropped by Finish() or Close()
  p->start_us = worker_.now_us();
  p->outcome.request_bytes = p->request.wire_size;
  queue_.push_back(p);
  return p;
}

void ClientConnection::AnswerUndecodable(PendingRequest* p, DecodeResult result) {
  std::string reply;
  codec_->EncodeErrorFor(p->request, worker_.client_scratch(), &reply);
  p->outcome.kind = Outcome::Kind::kError;
  if (result == DecodeResult::kProtocolError) {
    // The stream cannot be resynchronised: answer, then close once earlier replies are out.
    error_ = true;
    CloseInput();
  } else {
    in_.Drain(p->request.wire_size);
    session_->OnInvalidRequest();
  }
  CompleteLocal(p, reply);
}

inline bool ClientConnection::RunSession(PendingRequest* p, PinAction* pin) {
  // Local commands and authentication.
  std::string& scratch = worker_.client_scratch();
  scratch.clear();
  const LocalAction action = session_->OnRequest(p->request, &scratch);
  *pin = session_->Pin();
  if (action == LocalAction::kReply || action == LocalAction::kRefused) {
    // Only a request the session answers itself (HELLO, RESET) changes its variant.
    UpdateVariant();
    in_.Drain(p->request.wire_size);
    // An aborted transaction (EXEC after a refused command, RESET): the pinned connection
    // is reset and freed.
    if (*pin == PinAction::kReset) ReleasePin(/*reset=*/true);
    if (action == LocalAction::kRefused) {
      CountRefusal(p->request, scratch);
      p->outcome.kind = Outcome::Kind::kError;
    }
    CompleteLocal(p, scratch);
    return true;
  }
  if (action == LocalAction::kReplyThenClose) {
    // QUIT: later bytes are discarded; counted as a normal (EOF) close.
    eof_ = true;
    CloseInput();
    CompleteLocal(p, scratch);
    return true;
  }
  if (*pin == PinAction::kPinned || *pin == PinAction::kRelease) {
    // Connection-state commands of a transaction (MULTI after WATCH, EXEC, DISCARD,
    // UNWATCH): keyless, they go to the pinned connection without the chain's routing.
    ForwardPinned(p, *pin == PinAction::kRelease);
    return true;
  }
  return false;
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool ClientConnection::RunFilterChain(PendingRequest* p) {
  // Ejected servers whose retry time has passed rejoin first, so that this request is already
  // routed with them (twemproxy's order).
  pool_.RestoreEjected(worker_.now_us());
  // A local answer is only recorded while the chain runs (SendLocalError/SendLocalReply) and
  // completed after it has returned: `p` stays valid for every filter, and an answered
  // request is never forwarded, whatever the filter returned.
  const size_t wire_size = p->request.wire_size;
  const bool unsupported = p->request.kind == CommandKind::kUnsupported;
  current_ = p;
  answered_locally_ = false;
  bool stopped = false;
  for (const FilterPtr& filter : chain_->filters) {
    if (filter->OnRequest(p->request, *this) == FilterStatus::kStop || answered_locally_) {
      stopped = true;
      break;
    }
  }
  current_ = nullptr;
  if (answered_locally_) {
    in_.Drain(wire_size);
    if (rare_->answer_kind == Outcome::Kind::kError) session_->OnPinRefused();
    CompleteAnswered(p);
    return true;
  }
  if (stopped) {
    // A filter stopped without answering: never leave the client waiting.
    in_.Drain(wire_size);
    std::string reply;
    codec_->EncodeErrorFor(p->request, "request stopped by a filter without a reply", &reply);
    p->outcome.kind = Outcome::Kind::kError;
    CompleteLocal(p, reply);
    return true;
  }
  if (unsupported || p->request.kind == CommandKind::kUnsupported) {
    // Commands that change a shared server connection's mode (MULTI, SUBSCRIBE, MONITOR...)
    // or cannot be proxied are never forwarded, whatever the pool's chain: filters may
    // refuse more, never less (a filter cannot turn an unsupported command into another).
    pool_.stats().unsupported_refused.Add(1);
    Refuse(p, UnsupportedCommandText(p->request, *codec_));
    session_->OnPinRefused();
    return true;
  }
  return false;
}

void ClientConnection::ProcessInput() {
  if (decoder_ == nullptr) {
    if (codec_owner_ == nullptr) {
      InitProtocol();
    } else {
      // Given back at rest by ReleaseIdleMemory: one at rest from the same codec, or a new
      // one, decodes the rest of the stream the same.
      const Codec* codec = codec_owner_->Variant(decoder_variant_);
      decoder_ = worker_.TakeIdleDecoder(codec);
      if (decoder_ == nullptr) decoder_ = codec->NewRequestDecoder(pool_.shared().limits.decoder);
    }
  }
  // Each request goes through the steps below until one answers it (or forwards it); a step
  // that closes the input (a protocol error, QUIT) ends the loop.
  while (lifecycle_.input_open()) {
    if (OverLimits()) {
      PauseReading();
      break;
    }
    DecodeResult result;
    PendingRequest* p = DecodeNext(&result);
    if (p == nullptr) break;  // the next request is not complete yet
    if (result != DecodeResult::kMessage) {
      AnswerUndecodable(p, result);
      continue;
    }
    PinAction pin = PinAction::kNone;
    if (RunSession(p, &pin)) continue;
    if (RunFilterChain(p)) continue;
    Forward(p, pin);
  }
  // Draining: once every request received is complete, no more are read.
  if (lifecycle_.draining() && in_.Length() == 0 && (finished_ > 0 || !queue_.empty())) {
    StopInputAfterDrain();
  }
}

void ClientConnection::Refuse(PendingRequest* p, absl::string_view text) {
  in_.Drain(p->request.wire_size);
  CountRefusal(p->request, text);
  p->outcome.kind = Outcome::Kind::kError;
  std::string reply;
  // A refused noreply request (memcache) stays silent like every other noreply outcome.
  if (p->request.expects_reply) codec_->EncodeRefusal(p->request, text, &reply);
  CompleteLocal(p, reply);
}

void ClientConnection::CountRefusal(const Request& request, absl::string_view text) {
  pool_.stats().refused.Add(1);
  const absl::string_view command = request.command.empty() ? "unknown" : request.command;
  pool_.scope().Child(stats_names::kRefusedScope).CounterFor(command).Add(1);
  if (log::Enabled(log::kInfo) && worker_.AllowRefusalLog()) {
    PROXY_LOG(log::kInfo, "pool %s: refused %s (fd %d): %s", pool_.Name(), command, fd_,
              LogText(text));
  }
}

void ClientConnection::Forward(PendingRequest* p, PinAction pin) {
  const Request& request = p->request;
  RequestContext& context = p->context;
  const size_t wire_size = request.wire_size;
  if (!context.routed) {
    in_.Drain(wire_size);
    std::string reply;
    codec_->EncodeErrorFor(request, "request not routed: the pool's filter chain has no router",
                           &reply);
    CompleteLocal(p, reply);
    return;
  }
  if (request.broadcast) {
    if (pinned_ != nullptr && session_->PinnedOnly()) {
      Refuse(p, "a command sent to every server cannot be part of a transaction");
      session_->OnPinRefused();
      return;
    }
    ForwardBroadcast(p);
    return;
  }
  if (pool_.ReadsFromReplicas() && pinned_ == nullptr && pin == PinAction::kNone &&
      context.fragments.empty() && ReplicaCanServe(request) && ForwardToReplica(p)) {
    return;
  }
  if (pool_.DropsKeysOf(context.server) && pinned_ == nullptr && context.fragments.empty()) {
    // auto_eject_drop: the key's server is ejected and its keys stay with it.
    in_.Drain(wire_size);
    FailRequestWith(p, absl::StrCat("server '", pool_.server(context.server).name,
                                    "' is ejected and the pool keeps its keys there "
                                    "(auto_eject_drop)"));
    return;
  }
  if ((pinned_ != nullptr || pin == PinAction::kPin) && ForwardWithPin(p, pin)) return;
  if (pool_.AllEjected()) {
    in_.Drain(wire_size);
    FailRequest(p, ECONNREFUSED);
    return;
  }
  if (context.fragments.empty()) {
    ServerConnection* connection = pool_.PickConnection(context.server, variant_);
    if (connection == nullptr) {
      const int error = errno;
      in_.Drain(wire_size);
      FailRequest(p, error);
      return;
    }
    SendOn(connection, p, context.server);
    return;
  }
  // A split request: one fragment per server.
  in_.Drain(wire_size);
  SendFragments(p);
}

bool ClientConnection::ForwardToReplica(PendingRequest* p) {
  const uint32_t server = p->context.server;
  const bool master_ok = !pool_.DropsKeysOf(server);
  for (int attempt = 0; attempt < 2; ++attempt) {
    ServerState* target = pool_.ReadTarget(server, master_ok);
    if (target == nullptr) {
      if (!master_ok) return false;  // auto_eject_drop's refusal says why
      in_.Drain(p->request.wire_size);
      FailRequestWith(p, absl::StrCat("no live replica of server '", pool_.server(server).name,
                                      "' to read from (read_from: replica)"));
      return true;
    }
    if (!target->replica) return false;  // the master's turn: forwarded as any request
    ServerConnection* connection = pool_.PickConnection(*target, variant_);
    if (connection != nullptr) {
      SendOn(connection, p, server);
      return true;
    }
    // The replica cannot be reached (it is now out of the rotation): once more, which takes
    // another replica or the master by read_from.
  }
  in_.Drain(p->request.wire_size);
  FailRequest(p, errno != 0 ? errno : ECONNREFUSED);
  return true;
}

bool ClientConnection::FollowRedirect(PendingRequest* p, int32_t fragment,
                                      const Codec::Redirect& where, const ServerState& from) {
  // Bounded: kMaxRedirects for MOVED and ASK, kMaxTryAgainPauses for TRYAGAIN (tuning.h).
  const std::string& bytes = fragment < 0 ? p->resend : p->context.fragments[fragment].bytes;
  const bool again = where.kind == Codec::Redirect::Kind::kTryAgain;
  if (bytes.empty() || lifecycle_.closed() ||
      p->redirects >= (again ? kMaxTryAgainPauses : kMaxRedirects)) {
    return false;
  }
  const uint8_t attempt = p->redirects++;
  pool_.stats().redirects.Add(1);
  if (again) {
    const uint64_t pause_us = kTryAgainFirstPauseUs << attempt;
    RareState& rare_state = rare();
    rare_state.retries.push_back(DelayedRetry{RequestRef(p), fragment, from.where,
                                              worker_.now_us() + pause_us});
    event*& timer = rare_state.retry_timer;
    if (timer == nullptr) timer = evtimer_new(worker_.base(), &OnRetryTimer, this);
    if (!evtimer_pending(timer, nullptr)) {
      const timeval tv{static_cast<time_t>(pause_us / 1000000u),
                       static_cast<suseconds_t>(pause_us % 1000000u)};
      evtimer_add(timer, &tv);
    }
    return true;
  }
  const bool moved = where.kind == Codec::Redirect::Kind::kMoved;
  if (moved && pool_.shared().refresh_topology) pool_.shared().refresh_topology();
  return Resend(p, fragment, where.host, where.port, /*asking=*/!moved);
}

bool ClientConnection::Resend(PendingRequest* p, int32_t fragment, const std::string& host,
                              uint32_t port, bool asking) {
  const std::string& bytes = fragment < 0 ? p->resend : p->context.fragments[fragment].bytes;
  ServerState* target = pool_.RedirectTarget(host, port);
  ServerConnection* connection =
      target == nullptr ? nullptr : pool_.PickConnection(*target, variant_);
  if (connection == nullptr) return false;
  if (asking) connection->SendInternal(codec_->AskingRequest());
  connection->output().Append(bytes);
  connection->Enqueue(p, fragment, bytes.size(), true);
  return true;
}

void ClientConnection::OnRetryTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  self->worker_.UpdateClock();
  self->RunDueRetries();
}

void ClientConnection::RunDueRetries() {
  const uint64_t now = worker_.now_us();
  std::vector<DelayedRetry> due;
  uint64_t next = UINT64_MAX;
  std::vector<DelayedRetry>& retries = rare_->retries;  // the timer that calls this made it
  for (size_t i = 0; i < retries.size();) {
    if (retries[i].due_us <= now) {
      due.push_back(std::move(retries[i]));
      if (i + 1 != retries.size()) retries[i] = std::move(retries.back());
      retries.pop_back();
    } else {
      next = std::min(next, retries[i].due_us);
      ++i;
    }
  }
  for (DelayedRetry& retry : due) {
    PendingRequest* p = retry.request.get();
    const size_t colon = retry.where.rfind(':');
    uint32_t port = 0;
    const bool sent =
        !lifecycle_.closed() && colon != std::string::npos &&
        absl::SimpleAtoi(absl::string_view(retry.where).substr(colon + 1), &port) &&
        Resend(p, retry.fragment, retry.where.substr(0, colon), port, /*asking=*/false);
    if (!sent && !lifecycle_.closed()) {
      // As if its server had failed: the request (or this part of it) fails.
      const int error = errno != 0 ? errno : ECONNREFUSED;
      if (retry.fragment < 0) {
        FailRequest(p, error);
      } else {
        FailFragment(p, error);
      }
    }
    retry.request.reset();
  }
  if (next != UINT64_MAX && !lifecycle_.closed()) {
    const uint64_t wait = next > now ? next - now : 0;
    const timeval tv{static_cast<time_t>(wait / 1000000u),
                     static_cast<suseconds_t>(wait % 1000000u)};
    evtimer_add(rare_->retry_timer, &tv);
  }
}

void ClientConnection::SendOn(ServerConnection* connection, PendingRequest* p, uint32_t server) {
  const Request& request = p->request;
  const size_t wire_size = request.wire_size;
  size_t bytes = wire_size;
  if (pool_.FollowsRedirects() && request.expects_reply) {
    // Kept to resend it where a redirection says.
    if (request.has_rewrite) {
      p->resend = request.rewritten;
    } else {
      p->resend.resize(wire_size);
      in_.CopyOut(0, wire_size, p->resend.data());
    }
  }
  if (request.has_rewrite) {
    connection->output().Append(request.rewritten);
    in_.Drain(wire_size);
    bytes = request.rewritten.size();
  } else {
    in_.MoveTo(connection->output(), wire_size);
  }
  p->outcome.server = static_cast<int32_t>(server);
  connection->Enqueue(p, -1, bytes, request.expects_reply);
  if (!request.expects_reply) {
    p->outcome.kind = Outcome::Kind::kNoReply;
    p->done = true;
    DrainFinished();
  }
  if (connection->OverUnsentLimit()) WaitFor(connection);
}

void ClientConnection::SendFragments(PendingRequest* p) {
  RequestContext& context = p->context;
  const size_t count = context.fragments.size();
  p->fragments_left = static_cast<uint32_t>(count);
  p->fragment_replies.assign(count, std::string());
  pool_.stats().fragments.Add(static_cast<int64_t>(count));
  ServerConnection* full = nullptr;
  const bool replica_reads =
      pool_.ReadsFromReplicas() && pinned_ == nullptr && ReplicaCanServe(p->request);
  for (size_t i = 0; i < count; ++i) {
    const Fragment& fragment = context.fragments[i];
    const bool master_ok = !pool_.DropsKeysOf(fragment.server);
    ServerState* target = &pool_.server(fragment.server);
    if (replica_reads) target = pool_.ReadTarget(fragment.server, master_ok);
    if (target == nullptr || (!master_ok && !target->replica)) {
      // auto_eject_drop: this server's keys fail (the whole request does, like any fragment);
      // or read_from: replica and none of its replicas is in sync.
      FailFragment(p, !master_ok ? EHOSTDOWN : kNoLiveReplica);
      continue;
    }
    ServerConnection* connection = pool_.PickConnection(*target, variant_);
    if (connection == nullptr) {
      FailFragment(p, errno != 0 ? errno : ECONNREFUSED);
      continue;
    }
    connection->output().Append(fragment.bytes);
    connection->Enqueue(p, static_cast<int32_t>(i), fragment.bytes.size(), true);
    if (full == nullptr && connection->OverUnsentLimit()) full = connection;
  }
  // Every fragment failed: FailFragment completed the request with the last one (no reply
  // can have arrived meanwhile: replies are read in later events).
  if (count == 0) OnFragmentsDone(p);
  if (full != nullptr) WaitFor(full);
}

void ClientConnection::ForwardBroadcast(PendingRequest* p) {
  in_.Drain(p->request.wire_size);
  std::vector<uint32_t> servers;
  servers.reserve(pool_.server_count());
  for (uint32_t i = 0; i < pool_.server_count(); ++i) {
    if (!pool_.server(i).ejected) servers.push_back(i);
  }
  if (servers.empty()) {
    FailRequest(p, ECONNREFUSED);
    return;
  }
  p->context.fragments = codec_->Split(p->request, servers);
  if (p->context.fragments.empty()) {
    FailRequest(p, EINVAL);
    return;
  }
  SendFragments(p);
}

bool ClientConnection::ForwardWithPin(PendingRequest* p, PinAction pin) {
  const RequestContext& context = p->context;
  const bool split = !context.fragments.empty();
  const uint32_t server = context.server;
  const config::v1::Pool& config = pool_.Config();
  if (pinned_ != nullptr) {
    // The pinned connection's server: its index in the current config (never a routed index
    // once a reload removed it).
    const ServerState& pinned_server = pinned_->server();
    if (!split && server == pinned_server.index) {
      SendOn(pinned_, p, server);
      return true;
    }
    // Between WATCH and MULTI other servers' keys are ordinary requests.
    if (pin != PinAction::kPin && !session_->PinnedOnly()) return false;
    Refuse(p, split ? absl::StrCat("the keys of this command live on ",
                                   context.fragments.size(),
                                   " servers; in a transaction every key must live on its "
                                   "server '",
                                   pinned_server.name,
                                   "' (use hash tags, e.g. {user1}:a and {user1}:b)")
                    : absl::StrCat("key lives on server '", config.servers(server).node_name(),
                                   "' but this transaction runs on server '",
                                   pinned_server.name,
                                   "'; every key of a transaction must live on one server (use "
                                   "hash tags, e.g. {user1}:a and {user1}:b)"));
    session_->OnPinRefused();
    return true;
  }
  // PinAction::kPin: the first keyed command of a transaction, or WATCH.
  if (split) {
    Refuse(p, absl::StrCat("the keys of this command live on ", context.fragments.size(),
                           " servers; every key of a transaction must live on one server (use "
                           "hash tags, e.g. {user1}:a and {user1}:b)"));
    session_->OnPinRefused();
    return true;
  }
  ServerConnection* connection = pool_.AcquireDedicated(server, variant_);
  if (connection == nullptr) {
    const int error = errno;
    if (error == EBUSY) {
      Refuse(p, absl::StrCat("too many transactions in progress on server '",
                             config.servers(server).node_name(), "' (at most ",
                             pool_.shared().limits.max_pinned_connections,
                             " per server and worker); try again"));
    } else {
      in_.Drain(p->request.wire_size);
      FailRequest(p, error);
    }
    session_->OnPinRefused();
    return true;
  }
  pinned_ = connection;
  connection->SetPinnedClient(this);
  const std::string prelude = session_->PinPrelude();
  if (!prelude.empty()) connection->SendInternal(prelude);
  SendOn(connection, p, server);
  return true;
}

void ClientConnection::ForwardPinned(PendingRequest* p, bool release) {
  if (pinned_ == nullptr) {
    // The session believes it is pinned but the connection is gone (it closed): the
    // server-side state (a transaction, watched keys) is lost with it.
    session_->OnPinLost();
    in_.Drain(p->request.wire_size);
    std::string reply;
    codec_->EncodeErrorFor(p->request,
                           "the transaction's server connection was lost; nothing of it ran",
                           &reply);
    p->outcome.kind = Outcome::Kind::kError;
    CompleteLocal(p, reply);
    return;
  }
  ServerConnection* connection = pinned_;
  SendOn(connection, p, connection->server().index);
  if (release && pinned_ == connection) ReleasePin(/*reset=*/false);
}

void ClientConnection::ReleasePin(bool reset) {
  ServerConnection* connection = pinned_;
  if (connection == nullptr) return;
  pinned_ = nullptr;
  if (reset && !connection->closed()) {
    for (const std::string& request : connection->codec().PinResetRequests()) {
      connection->SendInternal(request);
    }
  }
  pool_.ReleaseDedicated(connection);
}

void ClientConnection::OnPinLost(ServerConnection* connection) {
  if (pinned_ != connection) return;
  pinned_ = nullptr;
  if (session_ != nullptr) session_->OnPinLost();
}

void ClientConnection::WaitFor(ServerConnection* connection) {
  if (lifecycle_.closed() || waiting_on_ != nullptr) return;
  waiting_on_ = connection;
  connection->AddWaiter(this);
  pool_.stats().server_backpressure.Add(1);
  PauseReading();
}

void ClientConnection::OnServerDrained() {
  waiting_on_ = nullptr;
  // Flush() resumes reading (and decodes what is already buffered) when nothing else holds.
  ScheduleFlush();
}

void ClientConnection::OnFragmentReply(PendingRequest* p, int32_t fragment, bool is_error,
                                       EvBuffer& from, size_t wire_size) {
  if (is_error && p->error_fragment < 0) p->error_fragment = fragment;
  std::string& slot = p->fragment_replies[static_cast<size_t>(fragment)];
  slot.resize(wire_size);
  from.CopyOut(0, wire_size, slot.data());
  from.Drain(wire_size);
  Hold(p, wire_size);
  CheckOutputLimit();
  if (lifecycle_.closed()) return;  // `p` is an orphan now
  if (--p->fragments_left == 0) OnFragmentsDone(p);
}

void ClientConnection::FailFragment(PendingRequest* p, int error) {
  if (p->error == 0) p->error = error;  // the first failure is the one reported
  if (--p->fragments_left == 0) OnFragmentsDone(p);
}

void ClientConnection::OnFragmentsDone(PendingRequest* p) {
  // The fragments' replies are released before the merged reply is made; the merged text is
  // counted in their place.
  Unhold(p);
  if (p->error != 0) {
    for (std::string& reply : p->fragment_replies) std::string().swap(reply);
    FailRequest(p, p->error);
    return;
  }
  p->reply_text.clear();
  bool merged = false;
  if (p->request.broadcast) {
    Codec::PoolFacts facts;
    facts.pool = pool_.Name();
    facts.proxy_version = kProxyVersion;
    facts.listen = pool_.Config().listen().raw();
    facts.servers = static_cast<uint32_t>(pool_.server_count());
    for (uint32_t i = 0; i < pool_.server_count(); ++i) {
      if (pool_.server(i).ejected) ++facts.servers_ejected;
      facts.requests += static_cast<uint64_t>(pool_.server(i).stats.requests.Get());
    }
    facts.uptime_s = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::steady_clock::now() - kProcessStart)
                                               .count());
    facts.client_connections = static_cast<uint64_t>(pool_.stats().client_connections.Get());
    facts.total_connections = static_cast<uint64_t>(worker_.total_connections());
    facts.refused = static_cast<uint64_t>(pool_.stats().refused.Get());
    facts.workers = worker_.workers();
    facts.process_id = static_cast<uint32_t>(getpid());
    merged = codec_->MergeBroadcast(p->request, p->context.fragments, p->fragment_replies, facts,
                                    &p->reply_text);
  } else {
    merged = codec_->Merge(p->request, p->context.fragments, p->fragment_replies,
                           &p->reply_text);
  }
  if (!merged && p->error_fragment >= 0) {
    // A server answered its part with an error: that is what the client is told (its first
    // line, printable), rather than that the replies could not be merged.
    const std::string& reply = p->fragment_replies[static_cast<size_t>(p->error_fragment)];
    std::string text = "a server answered part of this request with an error: ";
    for (const char c : absl::string_view(reply).substr(0, kMaxQuotedText)) {
      if (c == '\r' || c == '\n') break;
      text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
    }
    for (std::string& part : p->fragment_replies) std::string().swap(part);
    FailRequestWith(p, text);
    return;
  }
  for (std::string& reply : p->fragment_replies) std::string().swap(reply);
  if (!merged) {
    FailRequest(p, EINVAL);
    return;
  }
  if (p->chain->rewrites_replies) RewriteReply(p, &p->reply_text);
  p->outcome.kind = Outcome::Kind::kReply;
  p->outcome.reply_bytes = p->reply_text.size();
  Hold(p, p->reply_text.size());
  OnRequestDone(p);
}

void ClientConnection::CompleteLocal(PendingRequest* p, absl::string_view reply) {
  p->reply_text.assign(reply.data(), reply.size());
  if (p->outcome.kind == Outcome::Kind::kReply) p->outcome.kind = Outcome::Kind::kLocalReply;
  p->outcome.reply_bytes = reply.size();
  Hold(p, p->reply_text.size());
  OnRequestDone(p);
}

void ClientConnection::CompleteAnswered(PendingRequest* p) {
  // The recorded answer becomes the reply (a swap: no copy, and the answer keeps a buffer).
  std::string& answer = rare_->answer;  // SendLocalError/SendLocalReply made it
  p->reply_text.swap(answer);
  answer.clear();
  p->outcome.kind = rare_->answer_kind;
  p->outcome.reply_bytes = p->reply_text.size();
  Hold(p, p->reply_text.size());
  OnRequestDone(p);
}

void ClientConnection::SendLocalError(absl::string_view text) {
  // Only recorded here; completed by ProcessInput once the chain has returned. The first
  // answer of a chain run wins.
  if (current_ == nullptr || answered_locally_) return;
  answered_locally_ = true;
  rare().answer_kind = Outcome::Kind::kError;
  std::string& answer = rare_->answer;
  answer.clear();
  // A filter's error refuses the request: counted and logged with the other refusals.
  CountRefusal(current_->request, text);
  // A refused noreply request (memcache) stays silent like every other noreply outcome.
  if (current_->request.expects_reply) codec_->EncodeRefusal(current_->request, text, &answer);
}

void ClientConnection::SendLocalReply(absl::string_view bytes) {
  if (current_ == nullptr || answered_locally_) return;
  answered_locally_ = true;
  rare().answer_kind = Outcome::Kind::kLocalReply;
  rare_->answer.assign(bytes.data(), bytes.size());
}

void ClientConnection::FailRequest(PendingRequest* p, int error) {
  FailRequestWith(p, ErrorText(error));
}

void ClientConnection::FailRequestWith(PendingRequest* p, absl::string_view text) {
  Unhold(p);
  p->reply_text.clear();
  if (!p->request.expects_reply) {
    // noreply (memcache): the client expects nothing, not even an error.
    p->outcome.kind = Outcome::Kind::kNoReply;
    p->outcome.reply_bytes = 0;
    OnRequestDone(p);
    return;
  }
  codec_->EncodeErrorFor(p->request, text, &p->reply_text);
  p->outcome.kind = Outcome::Kind::kError;
  p->outcome.reply_bytes = p->reply_text.size();
  pool_.stats().forward_error.Add(1);
  Hold(p, p->reply_text.size());
  OnRequestDone(p);
}

void ClientConnection::OnRequestDone(PendingRequest* p) {
  p->done = true;
  p->reply_in_buffer = false;
  DrainFinished();
}

void ClientConnection::OnServerReply(PendingRequest* p, EvBuffer& from, size_t wire_size) {
  p->outcome.reply_bytes = wire_size;
  if (p->chain->rewrites_replies) {
    // A filter changes replies: hand it the reply as one string, then queue that.
    CopyReplyText(p, from, wire_size);
    RewriteReply(p, &p->reply_text);
    Hold(p, p->reply_text.size());
    OnRequestDone(p);
    return;
  }
  if (!queue_.empty() && queue_.front() == p) {
    // The common case: the oldest request's reply goes straight to the socket buffer.
    from.MoveTo(out_, wire_size);
    queue_.pop_front();
    Finish(p);
    DrainFinished();
    return;
  }
  // It waits for the requests ahead of it. A small reply is copied into the request's text,
  // whose capacity survives recycling (no allocation once warm); a large one moves its chains
  // into a buffer of its own (no copy). Out-of-order replies are the rule, not the exception,
  // when a pipelined client's keys live on several servers.
  if (wire_size <= kHeldReplyCopyBytes) {
    CopyReplyText(p, from, wire_size);
  } else {
    if (p->reply_buffer == nullptr) p->reply_buffer = std::make_unique<EvBuffer>();
    from.MoveTo(*p->reply_buffer, wire_size);
    p->reply_in_buffer = true;
  }
  p->done = true;
  Hold(p, wire_size);
  CheckOutputLimit();
}

void ClientConnection::CheckOutputLimit() {
  const size_t limit = pool_.shared().limits.client_output_limit;
  if (lifecycle_.closed() || out_.Length() + held_bytes_ <= limit) return;
  PROXY_LOG(log::kWarn,
            "pool %s: closing a client with %zu reply bytes waiting: over the client output "
            "limit of %zu bytes (it is not reading its replies)",
            pool_.Name(), out_.Length() + held_bytes_, limit);
  pool_.stats().client_output_overflow.Add(1);
  error_ = true;
  Close(false);
}

void ClientConnection::DrainFinished() {
  while (!queue_.empty() && queue_.front()->done) {
    PendingRequest* p = queue_.front();
    queue_.pop_front();
    if (p->reply_in_buffer) {
      p->reply_buffer->MoveAllTo(out_);
    } else if (!p->reply_text.empty()) {
      out_.Append(p->reply_text);
    }
    Finish(p);
  }
  ScheduleFlush();
  CheckOutputLimit();
}

void ClientConnection::Finish(PendingRequest* p) {
  Unhold(p);
  ++finished_;
  p->outcome.latency_us = worker_.now_us() - p->start_us;
  const uint64_t slow = pool_.shared().limits.slowlog_us;
  if (slow > 0 && p->outcome.latency_us >= slow) LogSlow(*p);
  for (const FilterPtr& filter : p->chain->filters) filter->OnComplete(p->request, p->outcome);
  p->client = nullptr;
  ReleaseRequest(p);  // the queue's reference
  if (rare_ != nullptr && rare_->retired_chains != nullptr) ReleaseRetiredChains();
}

void ClientConnection::LogSlow(const PendingRequest& p) {
  pool_.stats().slow_requests.Add(1);
  if (!worker_.AllowSlowLog()) return;
  const Request& r = p.request;
  // A reload may have changed the servers since the request was sent.
  const std::string server =
      p.outcome.server >= 0 && p.outcome.server < pool_.Config().servers_size()
          ? pool_.Config().servers(p.outcome.server).node_name()
          : (p.context.fragments.empty() ? std::string("-")
                                         : absl::StrCat(p.context.fragments.size(), " servers"));
  PROXY_LOG(log::kWarn,
            "slow request: pool %s server %s command %s keys %zu key_bytes %zu latency_us %llu "
            "reply_bytes %llu",
            pool_.Name(), server, r.command.empty() ? "-" : r.command, r.KeyCount(),
            r.KeyCount() > 0 ? r.Key(0).size() : 0,
            static_cast<unsigned long long>(p.outcome.latency_us),
            static_cast<unsigned long long>(p.outcome.reply_bytes));
}

void ClientConnection::ScheduleFlush() {
  if (lifecycle_.closed()) return;
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    worker_.ScheduleFlush(this);
  }
}

void ClientConnection::Flush() {
  flush_scheduled_ = false;
  if (lifecycle_.closed()) return;
  while (out_.Length() > 0) {
    const ssize_t n = tls() == nullptr ? out_.WriteTo(fd_) : WriteTls();
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      // The socket buffer is full: wait until it drains (the event is made on first need).
      if (rare().write_event == nullptr) {
        rare_->write_event = event_new(worker_.base(), fd_, EV_WRITE, &OnWrite, this);
      }
      event_add(rare_->write_event, nullptr);
      return;
    }
    // The client went away while we were writing.
    if (eof_ && !queue_.empty()) pool_.stats().client_eof_pending.Add(1);
    error_ = !eof_;
    Close(eof_);
    return;
  }
  // Every reply written: the output evbuffer goes until the next reply (once per write burst).
  out_.Release();
  if (!reading_ && lifecycle_.input_open() && !OverLimits()) {
    ResumeReading();
    // Bytes already buffered may hold complete requests.
    ProcessInput();
    if (lifecycle_.closed()) return;
    ReleaseIdleMemory();
  }
  MaybeClose();
}

void ClientConnection::ReleaseIdleMemory() {
  // Bytes of a request not complete yet stay, and so does the request they are being decoded
  // into (the decoder's position refers to them). Otherwise the decoder is at a request
  // boundary and nothing here is needed until the next bytes arrive: the spare request and the
  // two evbuffers were ~760 of the 2,145 bytes an idle client cost after a request (issue 15,
  // docs/bench/2026-12-07-issue15-connection-memory.md). Once per read burst: a pipelining
  // client pays it once per batch, not per request.
  if (in_.Length() != 0) return;
  in_.Release();
  // A decoder between requests that learned nothing from them (RequestDecoder::AtRest) goes
  // back to the worker until the next bytes: about 200 bytes less per idle connection.
  if (decoder_ != nullptr && decoder_variant_ != kNoDecoderVariant && decoder_->AtRest()) {
    worker_.KeepIdleDecoder(codec_owner_, codec_owner_->Variant(decoder_variant_),
                            std::move(decoder_));
  }
  if (spare_ != nullptr) {
    worker_.requests().Recycle(spare_);  // decoded into, never queued: no reference
    spare_ = nullptr;
  }
  // A filter's local answer longer than the inline capacity.
  constexpr size_t kKeepAnswerBytes = 64;
  if (rare_ != nullptr && rare_->answer.capacity() > kKeepAnswerBytes) {
    std::string().swap(rare_->answer);
  }
}

void ClientConnection::PauseReading() {
  if (reading_) {
    event_del(&read_event_);
    reading_ = false;
  }
  if (lifecycle_.input_open() && !watching_peer_close_ && !eof_) {
    // A client may hang up while it is not read from: notice it (EPOLLRDHUP) without reading.
    event*& watch = rare().peer_closed_event;
    if (watch == nullptr) watch = event_new(worker_.base(), fd_, EV_CLOSED, &OnPeerClosed, this);
    if (watch != nullptr && event_add(watch, nullptr) == 0) {
      watching_peer_close_ = true;
    }
  }
}

void ClientConnection::ResumeReading() {
  if (!reading_ && lifecycle_.input_open()) {
    if (watching_peer_close_) {
      event_del(rare_->peer_closed_event);
      watching_peer_close_ = false;
    }
    event_add(&read_event_, nullptr);
    reading_ = true;
  }
}

void ClientConnection::MaybeClose() {
  switch (lifecycle_.NextStep(/*replies_owed=*/!queue_.empty() || out_.Length() > 0)) {
    case ClientLifecycle::Step::kKeepOpen:
      return;
    case ClientLifecycle::Step::kCloseNow:
      Close(eof_ && !error_);
      return;
    case ClientLifecycle::Step::kWaitForReplies:
      ArmCloseTimer();
      return;
  }
}

void ClientConnection::CloseInput() {
  lifecycle_.CloseInput();
  PauseReading();
  in_.Drain(in_.Length());
}

void ClientConnection::ArmCloseTimer() {
  RareState& rare_state = rare();
  if (rare_state.close_timer == nullptr) {
    rare_state.close_timer = evtimer_new(worker_.base(), &OnCloseTimer, this);
  } else if (evtimer_pending(rare_state.close_timer, nullptr)) {
    return;  // already counting
  }
  rare_state.finished_at_arm = finished_;
  const uint64_t grace_ms =
      std::max<uint64_t>(pool_.shared().limits.client_eof_grace_ms, 1);
  timeval tv{static_cast<time_t>(grace_ms / 1000),
             static_cast<suseconds_t>((grace_ms % 1000) * 1000)};
  evtimer_add(rare_state.close_timer, &tv);
}

void ClientConnection::OnPeerClosed(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  self->worker_.UpdateClock();
  if (self->lifecycle_.closed()) return;
  // Reading is paused (backpressure or limits), so the EOF itself is not read yet; the bytes
  // before it are still answered when reading resumes. Meanwhile the wait is bounded.
  event_del(self->rare_->peer_closed_event);
  self->watching_peer_close_ = false;
  self->eof_ = true;
  self->ArmCloseTimer();
}

void ClientConnection::OnCloseTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<ClientConnection*>(arg);
  self->worker_.UpdateClock();
  if (self->lifecycle_.closed()) return;
  if (self->finished_ != self->rare_->finished_at_arm) {
    // Replies are still going out: count the grace period from this progress.
    self->ArmCloseTimer();
    return;
  }
  PROXY_LOG(log::kInfo,
            "pool %s: closing a client that hung up, with no reply going out for %u ms and "
            "%zu requests and %zu reply bytes still pending",
            self->pool_.Name(), self->pool_.shared().limits.client_eof_grace_ms,
            self->queue_.size(), self->out_.Length());
  self->pool_.stats().client_eof_pending.Add(1);
  self->Close(self->eof_ && !self->error_);
}

void ClientConnection::RefuseAndClose(absl::string_view error) {
  std::string reply;
  (codec_ != nullptr ? *codec_ : pool_.PoolCodec()).EncodeError(error, &reply);
  out_.Append(reply);
  error_ = true;
  CloseInput();
  ScheduleFlush();
}

void ClientConnection::Close(bool eof) {
  if (!lifecycle_.Close()) return;  // already closed
  // A client that leaves mid-transaction: its connection is reset before anyone reuses it.
  ReleasePin(/*reset=*/true);
  while (!queue_.empty()) {
    PendingRequest* p = queue_.front();
    queue_.pop_front();
    p->client = nullptr;  // still-running requests become orphans
    ReleaseRequest(p);  // the queue's reference
  }
  if (spare_ != nullptr) {
    worker_.requests().Recycle(spare_);  // decoded into, never queued: no reference
    spare_ = nullptr;
  }
  // Requests waiting to be sent again (-TRYAGAIN) are orphans now: dropped.
  if (rare_ != nullptr) {
    rare_->retries.clear();
    if (rare_->retry_timer != nullptr) evtimer_del(rare_->retry_timer);
    if (rare_->write_event != nullptr) event_del(rare_->write_event);
    if (rare_->close_timer != nullptr) evtimer_del(rare_->close_timer);
    if (rare_->peer_closed_event != nullptr) event_del(rare_->peer_closed_event);
  }
  if (waiting_on_ != nullptr) {
    waiting_on_->RemoveWaiter(this);
    waiting_on_ = nullptr;
  }
  event_del(&read_event_);
  if (tls() != nullptr) tls()->Shutdown();  // close_notify, before the socket goes
  close(fd_);
  fd_ = -1;
  std::unique_ptr<ClientConnection> self = pool_.ClientClosed(this, eof);
  worker_.ConnectionClosed();
  // Callbacks on the stack may still use this connection: deleted after them.
  worker_.DeferDelete(std::move(self));
}

}  // namespace proxy
