// The lifecycle of one client connection: when it reads, when it closes. Kept apart from the
// sockets (ClientConnection drives it) so that its transitions are tested without one
// (test/core/proxy/client_lifecycle_test.cc).
//
//   kOpen ──Drain()──> kDraining ──CloseInput()──> kInputClosed ──Close()──> kClosed
//     └───────────────────CloseInput()──────────────────┘ (EOF, QUIT, a protocol error,
//                                                             a refused connection)
//   Close() from any state (an error, shutdown); kClosed is final.
//
// kDraining still reads: the requests in progress (also those still in the socket buffer) are
// received whole and answered. kInputClosed reads no more: the connection closes once every
// owed reply is written, or when the grace timer gives up on a client that does not read them.
#pragma once

#include <cstdint>

namespace proxy {

class ClientLifecycle {
 public:
  enum class State : uint8_t { kOpen, kDraining, kInputClosed, kClosed };
  // What an input-closed connection does next (NextStep).
  enum class Step : uint8_t { kKeepOpen, kCloseNow, kWaitForReplies };

  State state() const { return state_; }
  // Requests are still read (kOpen, kDraining).
  bool input_open() const { return state_ == State::kOpen || state_ == State::kDraining; }
  bool draining() const { return state_ == State::kDraining; }
  bool closed() const { return state_ == State::kClosed; }

  // A graceful close was asked for (a reload removed the pool, or shutdown): kOpen starts
  // draining; a connection whose input is already closed stays so. False once closed.
  bool Drain() {
    if (state_ == State::kOpen) state_ = State::kDraining;
    return state_ != State::kClosed;
  }
  // Reads no more; the connection closes once its replies are written. No-op once closed.
  void CloseInput() {
    if (state_ != State::kClosed) state_ = State::kInputClosed;
  }
  // The socket is closed. False when it already was (the caller then does nothing).
  bool Close() {
    if (state_ == State::kClosed) return false;
    state_ = State::kClosed;
    return true;
  }
  // Whether to close now: only an input-closed connection closes by itself, once nothing is
  // owed (no request waiting for its reply, no reply byte unwritten).
  Step NextStep(bool replies_owed) const {
    if (state_ != State::kInputClosed) return Step::kKeepOpen;
    return replies_owed ? Step::kWaitForReplies : Step::kCloseNow;
  }

 private:
  State state_ = State::kOpen;
};

}  // namespace proxy
