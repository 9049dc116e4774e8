// The connection manager of one client connection: decode → local commands → filter chain →
// forward, and replies written strictly in request order.
//
// Lifetime: made by its pool's accept and owned by the pool (PoolRuntime::ClientOpened) while
// open; Close() hands it to the worker, which deletes it after the current callback
// (Worker::DeferDelete), since the callbacks that close it are still on the stack. When it
// reads and closes: ClientLifecycle (client_lifecycle.h). Its requests: PendingRequest
// (pending_request.h), referenced by its queue until their reply is written.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "api/codec.h"
#include "api/filter.h"
#include "core/buffer/evbuffer_buffer.h"
#include "core/proxy/client_lifecycle.h"
#include "core/proxy/pending_request.h"
#include "core/tls/tls_session.h"

namespace proxy {

class PoolRuntime;
class ServerConnection;
struct ServerState;
class Worker;

// Also the PoolView its filters see (Pool()): the pool, with the client's own codec (a
// memcache binary or RESP3 client's), so that a filter's Split/RewriteKeys/UnsupportedReason
// speak its form. A base rather than a member object: 8 bytes less per connection.
class ClientConnection : public FilterCallbacks, private PoolView {
 public:
  // Made by the pool's accept (PoolRuntime::ClientOpened owns it), then Start()ed.
  ClientConnection(PoolRuntime& pool, int fd);
  ~ClientConnection() override;
  // Client connections existing in the process (all workers; closed ones until they are
  // deleted), and the most there were since the last TakePeakCount() (which restarts it from
  // the current count): what core/server/memory_release.h watches to return memory after a
  // burst, however short the burst was.
  static int64_t LiveCount();
  static int64_t TakePeakCount();
  // Starts reading (or closes at once when no TLS session could be made).
  void Start();
  bool closed() const { return lifecycle_.closed(); }

  // Closes at once, whatever is pending (the proxy is shutting down).
  void CloseForShutdown() { Close(false); }
  // Reads no more (requests already buffered are still handled), closes once every reply is
  // written: its pool was removed by a reload, or the proxy is shutting down gracefully.
  void Drain();

  // Sends `error` (Codec::EncodeError) and closes; used when refusing a connection.
  void RefuseAndClose(absl::string_view error);

  // A server reply for `request`: `wire_size` bytes at the head of `from`.
  void OnServerReply(PendingRequest* request, EvBuffer& from, size_t wire_size);
  // A Redis Cluster node answered `request` (or its fragment, >= 0) with a redirection: sends it
  // again where it says (after ASKING for -ASK) and, for -MOVED, asks for a new slot map. False
  // when it cannot be followed (too many redirections, no bytes kept): the reply then goes to
  // the client as it is.
  // `from`: the server that answered (where -TRYAGAIN sends it again, after a pause).
  bool FollowRedirect(PendingRequest* request, int32_t fragment, const Codec::Redirect& where,
                      const ServerState& from);
  // The request is complete with its reply in reply_text (merged, error or local).
  void OnRequestDone(PendingRequest* request);
  // Errors produced by the proxy for a request (counted as forward_error).
  void FailRequest(PendingRequest* request, int error);
  // The same with the error's text given.
  void FailRequestWith(PendingRequest* request, absl::string_view text);
  // The reply to fragment `fragment` of a split request: `wire_size` bytes at the head of
  // `from` (kept, and counted against the output limit, until every fragment has answered).
  // `is_error`: the reply is an error reply (kept to explain a merge that fails).
  void OnFragmentReply(PendingRequest* request, int32_t fragment, bool is_error, EvBuffer& from,
                       size_t wire_size);
  // Every fragment of a split request has answered (or failed).
  void OnFragmentsDone(PendingRequest* request);
  // A fragment of a split request failed (`error`: errno, or -1 for an EOF; the first one is
  // reported): a server connection failed, or none could be had, or a retry could not be sent.
  // The request completes when it was the last fragment outstanding.
  void FailFragment(PendingRequest* request, int error);
  // The server connection this client waits on (backpressure) has drained, or closed.
  void OnServerDrained();
  // The dedicated connection this client is pinned to has closed (its requests fail).
  void OnPinLost(ServerConnection* connection);

  // Writes what is queued (called by the worker at the end of a batch of events).
  void Flush();

  // FilterCallbacks.
  void SendLocalError(absl::string_view text) override;
  void SendLocalReply(absl::string_view bytes) override;
  RequestContext& Context() override { return current_->context; }
  const PoolView& Pool() const override;
  const Buffer& RequestBytes() const override { return in_; }

 private:
  // TLS pools (`tls:`, docs/tls.md): reads and writes through the session, the handshake
  // first. False from the handshake when it waits, or failed (counted, logged, closed).
  ssize_t ReadTls(size_t max);
  ssize_t WriteTls();
  bool ContinueTlsHandshake();
  static void OnRead(evutil_socket_t fd, short what, void* arg);
  static void OnWrite(evutil_socket_t fd, short what, void* arg);
  void HandleReadable();
  void InitProtocol();
  // Draining: reads no more and closes once every reply is written.
  void StopInputAfterDrain();
  // Reads no more (the lifecycle's kInputClosed); bytes not yet decoded are discarded.
  void CloseInput();
  // A reload changed the pool: the next request runs through a chain made by its new filter
  // factories; the current one stays with the requests that ran through it.
  void SwitchChain();
  void BuildChain();
  // Frees retired chains no queued request uses any more.
  void ReleaseRetiredChains();
  // Decodes and handles every complete request buffered, one step after the other (below).
  // The steps are inline (defined in client_connection.cc, used only there): the split costs
  // the hot path no calls (measured with callgrind: out of line, they cost ~2% more
  // instructions per pipelined GET/SET).
  void ProcessInput();
  // The next complete request, queued (nullptr while its bytes are incomplete). `result`:
  // kMessage, or a request the decoder could not read (AnswerUndecodable answers it).
  inline PendingRequest* DecodeNext(DecodeResult* result);
  // Answers a request the decoder refused; a protocol error also closes the input.
  void AnswerUndecodable(PendingRequest* request, DecodeResult result);
  // The session's step: local commands, authentication, QUIT, and a transaction's
  // connection-state commands (sent to the pinned connection). True when it handled the
  // request; `pin` is what the session says about pinning.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool RunSession(PendingRequest* request, PinAction* pin);
  // The filter chain's step, and the core's refusal of unsupported commands. True when the
  // request was answered (by a filter, or refused); false when it is to be forwarded.
  ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool RunFilterChain(PendingRequest* request);
  void Forward(PendingRequest* request, PinAction pin);
  // Replica reads (read_from:): sends a read-only request to a replica of its key's server, or
  // fails it when read_from: replica finds none in sync. False when the master serves it (its
  // turn, or no replica): the caller forwards it as any request.
  bool ForwardToReplica(PendingRequest* request);
  // Sends an unsplit request on `connection` (its wire bytes, or its rewrite).
  void SendOn(ServerConnection* connection, PendingRequest* request, uint32_t server);
  // A request for the pinned connection without routing (PinAction::kPinned / kRelease).
  void ForwardPinned(PendingRequest* request, bool release);
  // Sends a routed request while pinned, or pins (PinAction::kPin); false when it is refused
  // (answered) or not for the pinned connection (then routed as usual).
  bool ForwardWithPin(PendingRequest* request, PinAction pin);
  // Ends the pin; `reset`: the codec's PinResetRequests go first (the client left or aborted).
  void ReleasePin(bool reset);
  // Sends the request's fragments (context.fragments), one per server.
  void SendFragments(PendingRequest* request);
  // One fragment per live server (Request::broadcast).
  void ForwardBroadcast(PendingRequest* request);
  // Answers a valid request the proxy refuses (counted per command, logged at -v 6).
  void Refuse(PendingRequest* request, absl::string_view text);
  void CountRefusal(const Request& request, absl::string_view text);
  // The codec of the session's current variant (api/codec.h Session::Variant).
  void UpdateVariant();
  void CompleteLocal(PendingRequest* request, absl::string_view reply);
  // Writes every finished reply at the head of the queue to the output.
  void DrainFinished();
  void Finish(PendingRequest* request);
  // Runs the filters' OnReply (reverse order) over a reply text.
  void RewriteReply(PendingRequest* request, std::string* reply);
  void LogSlow(const PendingRequest& request);
  void ScheduleFlush();
  void PauseReading();
  void ResumeReading();
  void MaybeClose();
  void Close(bool eof);
  bool OverLimits() const;
  // Disconnects the client when its waiting replies exceed the hard output limit.
  void CheckOutputLimit();
  // Stops reading until `connection` (over its unsent-bytes bound) drains.
  void WaitFor(ServerConnection* connection);
  // Bytes a waiting request holds (see PendingRequest::held_bytes).
  void Hold(PendingRequest* request, size_t bytes) {
    request->held_bytes += bytes;
    held_bytes_ += bytes;
  }
  void Unhold(PendingRequest* request) {
    held_bytes_ -= request->held_bytes;
    request->held_bytes = 0;
  }
  // The filter chain answered `request` (SendLocalError/SendLocalReply): complete it now that
  // the chain has returned.
  void CompleteAnswered(PendingRequest* request);
  // Between requests (no partial request in in_): gives back what an idle connection does not
  // need (the input evbuffer, the spare request, large scratch strings). Called per read burst
  // and per completed write, never per request.
  void ReleaseIdleMemory();
  // The client's input is closed but replies are still owed: close after the grace period.
  void ArmCloseTimer();
  static void OnCloseTimer(evutil_socket_t fd, short what, void* arg);
  // The peer shut its side while reading was paused (EV_CLOSED): bound the wait like an EOF.
  static void OnPeerClosed(evutil_socket_t fd, short what, void* arg);

  // PoolView (see the class comment).
  absl::string_view Name() const override;
  const config::v1::Pool& Config() const override;
  const Codec& PoolCodec() const override;
  uint32_t ServerForHashKey(absl::string_view hash_key) const override;
  uint32_t ShardForHashKey(absl::string_view hash_key) const override;
  uint32_t ServerOfShard(uint32_t shard) const override;

  // Redis Cluster: requests answered -TRYAGAIN, sent again to the same node after a pause
  // (each holds a reference to its request).
  struct DelayedRetry {
    RequestRef request;
    int32_t fragment;
    std::string where;  // host:port
    uint64_t due_us;
  };
  static void OnRetryTimer(evutil_socket_t fd, short what, void* arg);
  void RunDueRetries();
  // Sends `bytes` for `request` (fragment or -1) to the server at `where`; false when no
  // connection can be had.
  bool Resend(PendingRequest* request, int32_t fragment, const std::string& host, uint32_t port,
              bool asking);

  // What most connections never need, made on first use (rare()) and kept until the
  // connection is deleted: out of the object, it costs a plain client 8 bytes instead of ~120
  // (issue 15: memory per idle connection).
  struct RareState {
    ~RareState();
    // -TRYAGAIN retries waiting for their pause, and the timer that sends them.
    std::vector<DelayedRetry> retries;
    event* retry_timer = nullptr;
    event* write_event = nullptr;  // made when a write would block (or a TLS handshake waits)
    event* close_timer = nullptr;  // made when the input closes with replies still owed
    // Watches for the peer's close while reading is paused (made on the first pause).
    event* peer_closed_event = nullptr;
    // Requests finished when the close timer was last armed (see finished_).
    uint64_t finished_at_arm = 0;
    // TLS pools (`tls:`): the client's session (made with the connection).
    std::unique_ptr<tls::TlsSession> tls;
    // Older filter chains still used by queued requests after a reload (oldest first).
    std::unique_ptr<RetiredChain> retired_chains;
    // A filter's local answer (SendLocalError/SendLocalReply), recorded while the chain runs
    // (see answered_locally_); swapped into the request's reply, so it keeps no buffer.
    std::string answer;
    Outcome::Kind answer_kind = Outcome::Kind::kLocalReply;
  };
  RareState& rare() {
    if (rare_ == nullptr) rare_ = std::make_unique<RareState>();
    return *rare_;
  }
  // The TLS session; null on plaintext pools. Looked at once per read or write, not per
  // request.
  tls::TlsSession* tls() const { return rare_ == nullptr ? nullptr : rare_->tls.get(); }

  // Members ordered by size, so that padding costs little (issue 15: this object is the
  // largest part of an idle connection's memory).
  PoolRuntime& pool_;
  Worker& worker_;
  EvBuffer in_;
  EvBuffer out_;
  RequestDecoderPtr decoder_;
  SessionPtr session_;
  // The client's codec: the pool's, or its variant chosen by the first bytes (memcache
  // binary) or by the session (redis HELLO 3). Null until the first bytes arrive.
  const Codec* codec_ = nullptr;
  // The codec of the config generation the client connected under (its decoder and session
  // were made by it; a reload may replace the pool's).
  std::shared_ptr<const Codec> codec_owner_;
  // The dedicated server connection this client is pinned to (transactions).
  ServerConnection* pinned_ = nullptr;
  // The filter chain new requests run through (older ones: RareState::retired_chains): the
  // pool's one per worker when no filter keeps client state (PoolRuntime::shared_chain),
  // else this client's own.
  std::shared_ptr<const FilterChain> chain_;
  RequestQueue queue_;
  // The request the filter chain is running on (null outside the chain).
  PendingRequest* current_ = nullptr;
  // Reply bytes held for ordering (not yet in out_): the sum of the queue's held_bytes.
  size_t held_bytes_ = 0;
  // The server connection whose unsent bytes are over their bound and that this client fed:
  // reading stops until it drains (null = not waiting).
  ServerConnection* waiting_on_ = nullptr;
  // Requests finished so far (the close timer's grace period is counted from the last
  // progress, so a slow but moving pipeline is not cut).
  uint64_t finished_ = 0;
  // The request being decoded while its bytes are incomplete (given back between requests).
  PendingRequest* spare_ = nullptr;
  std::unique_ptr<RareState> rare_;
  // Embedded: an event of its own on the heap cost 16 bytes of malloc overhead and a pointer.
  event read_event_;
  int fd_;
  // The pool generation (PoolRuntime::generation, low 32 bits) chain_ was made for.
  uint32_t chain_generation_ = 0;
  uint8_t variant_ = 0;
  // Which of codec_owner_'s variants made decoder_ (chosen by the first bytes; a variant the
  // session switches to later keeps this decoder): a decoder at rest goes back to the worker
  // between read bursts and comes from there, or from this codec, at the next bytes.
  // kNoDecoderVariant: not given back.
  static constexpr uint8_t kNoDecoderVariant = 0xff;
  uint8_t decoder_variant_ = kNoDecoderVariant;
  // A local answer recorded during the chain (SendLocalError/SendLocalReply; its text and kind
  // in RareState). It is only recorded there and completed once the chain has returned, so
  // that a filter never sees its request finished (and recycled) under it, and an answered
  // request is never forwarded.
  bool answered_locally_ = false;
  bool flush_scheduled_ = false;
  bool watching_peer_close_ = false;
  // When the connection reads and when it closes (client_lifecycle.h).
  ClientLifecycle lifecycle_;
  // The read event is on (not paused by limits or backpressure, input open).
  bool reading_ = false;
  // How the connection ends, which decides its counter (client_eof or client_err), not when:
  // orthogonal to the lifecycle. eof_: the client ended it in order (EOF, QUIT, a drain) or
  // was seen hanging up while not read from (then the grace timer bounds the wait);
  // error_: a read or write error, a protocol error, the output limit, a refusal.
  bool eof_ = false;
  bool error_ = false;
};

}  // namespace proxy
