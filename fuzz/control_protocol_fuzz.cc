// Fuzz target: the control socket's input path as control_server.cc runs it: bytes arrive in chunks,
// take_frame() takes frames off the connection buffer, parse_request() splits each payload.
// Input: byte 0 = chunk size (1..256, as the bytes arrive from recv()), the rest = the byte stream.
// Checks: no crash, leak or sanitizer report, and the protocol's promises: a taken payload is 1..64 KiB and
// re-frames to exactly the bytes it consumed; an error leaves the buffer as it was; a parsed request's verb
// is [a-z0-9-]+ and verb [+ ' ' + args] is the payload.
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_require.h"
#include "control/control_protocol.h"

using namespace castor;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = size_t(data[0]) + 1;
  const std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string buffer;
  // One copy of the buffer before each take_frame(), reusing its capacity: a new string per byte (a 64 KiB
  // frame arriving one byte at a time) went through ASan's quarantine and took the fuzzer past its 2 GB RSS
  // limit in CI (an out-of-memory of this harness, not of take_frame).
  std::string before;
  before.reserve(stream.size());
  for (size_t pos = 0; pos < stream.size();) {
    const size_t n = std::min(chunk, stream.size() - pos);
    buffer.append(stream, pos, n);
    pos += n;
    for (;;) {
      before.assign(buffer);
      auto frame = take_frame(buffer);
      if (!frame.ok()) {
        require(buffer == before);
        return 0;  // the server closes the connection here
      }
      if (!frame->has_value()) {
        require(buffer == before);
        break;
      }
      const std::string& payload = **frame;
      require(!payload.empty() && payload.size() <= kMaxPayload);
      auto reframed = encode_frame(payload);
      require(reframed.ok() && before.compare(0, reframed->size(), *reframed) == 0 &&
              before.size() == reframed->size() + buffer.size());
      auto req = parse_request(payload);
      if (!req.ok()) return 0;  // the server closes the connection here
      require(!req->verb.empty());
      for (char c : req->verb) require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
      require(payload == (payload.find(' ') == std::string::npos ? req->verb : req->verb + " " + req->args));
    }
  }
  return 0;
}
