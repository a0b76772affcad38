#include "control/control_protocol.h"

#include <span>

#include "common/byte_codec.h"

namespace castor {

Result<std::string> encode_frame(std::string_view payload, size_t max) {
  if (payload.empty()) return Error(Code::invalid_argument, "empty control message");
  if (payload.size() > max)
    return Error(Code::invalid_argument, "control message of " + std::to_string(payload.size()) +
                                             " bytes is longer than the " + std::to_string(max) +
                                             "-byte maximum");
  std::string out(kFrameHeaderSize + payload.size(), '\0');
  ByteWriter w(std::as_writable_bytes(std::span<char>(out.data(), kFrameHeaderSize)));
  w.u32(uint32_t(payload.size()));
  w.u16(kProtocolVersion);
  out.replace(kFrameHeaderSize, payload.size(), payload);
  return out;
}

Result<std::optional<std::string>> take_frame(std::string& buffer, size_t max) {
  if (buffer.size() < kFrameHeaderSize) return std::optional<std::string>();
  ByteReader r(std::as_bytes(std::span<const char>(buffer.data(), kFrameHeaderSize)));
  const uint32_t len = r.u32();
  const uint16_t version = r.u16();
  if (len == 0) return Error(Code::invalid_argument, "malformed frame: empty payload");
  if (len > max)
    return Error(Code::invalid_argument, "frame of " + std::to_string(len) + " bytes exceeds the " +
                                             std::to_string(max) + "-byte maximum");
  if (version != kProtocolVersion)
    return Error(Code::unsupported, "protocol version " + std::to_string(version) + " is not supported (this is " +
                                        std::to_string(kProtocolVersion) + ")");
  if (buffer.size() < kFrameHeaderSize + len) return std::optional<std::string>();
  std::string payload = buffer.substr(kFrameHeaderSize, len);
  buffer.erase(0, kFrameHeaderSize + len);
  return std::optional<std::string>(std::move(payload));
}

Result<ControlRequest> parse_request(std::string_view payload) {
  for (char c : payload) {
    if (c < 0x20 || c > 0x7e)
      return Error(Code::invalid_argument,
                   "malformed request: only printable ASCII on one line is allowed (found byte " +
                       std::to_string(int(static_cast<unsigned char>(c))) + ")");
  }
  ControlRequest req;
  size_t sp = payload.find(' ');
  req.verb = std::string(payload.substr(0, sp));
  if (sp != std::string_view::npos) req.args = std::string(payload.substr(sp + 1));
  if (req.verb.empty()) return Error(Code::invalid_argument, "malformed request: no verb");
  for (char c : req.verb) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return Error(Code::invalid_argument, "malformed request: the verb must be [a-z0-9-]+");
  }
  return req;
}

}  // namespace castor
