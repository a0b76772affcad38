// Tests for the wire format of quorumd's control socket (lib/control/control_protocol.h): frames and
// request parsing, including malformed and random input.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "control/control_protocol.h"

using namespace castor;

namespace {

// A raw 6-byte header: length and version, little-endian.
std::string header(uint32_t len, uint16_t version = kProtocolVersion) {
  std::string h;
  for (int i = 0; i < 4; ++i) h.push_back(char((len >> (8 * i)) & 0xff));
  for (int i = 0; i < 2; ++i) h.push_back(char((version >> (8 * i)) & 0xff));
  return h;
}

std::string frame(const std::string& payload) {
  auto f = encode_frame(payload);
  REQUIRE_MESSAGE(f.ok(), f.status().to_string());
  return *f;
}

bool printable_one_line(const std::string& s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool verb_well_formed(const std::string& v) {
  if (v.empty()) return false;
  for (char c : v)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace

TEST_CASE("control protocol: encode_frame layout") {
  std::string f = frame("status");
  REQUIRE(f.size() == kFrameHeaderSize + 6);
  CHECK(f.substr(0, kFrameHeaderSize) == header(6, 1));
  CHECK(f.substr(kFrameHeaderSize) == "status");

  // Binary payloads (replies are JSON, but the frame layer does not care).
  const std::string bin("\x00\xff\n\x01", 4);
  f = frame(bin);
  CHECK(f.substr(0, kFrameHeaderSize) == header(4, 1));
  CHECK(f.substr(kFrameHeaderSize) == bin);

  auto empty = encode_frame("");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().code() == Code::invalid_argument);

  auto max = encode_frame(std::string(kMaxPayload, 'm'));
  REQUIRE(max.ok());
  CHECK(max->size() == kFrameHeaderSize + kMaxPayload);
  CHECK(max->substr(0, kFrameHeaderSize) == header(uint32_t(kMaxPayload), 1));

  auto too_big = encode_frame(std::string(kMaxPayload + 1, 'm'));
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.status().code() == Code::invalid_argument);
}

TEST_CASE("control protocol: round trip") {
  for (const std::string& payload :
       {std::string("status"), std::string("register-pgid 4242"), std::string("{\"ok\":true}"), std::string("x"),
        std::string(1000, 'a'), std::string(kMaxPayload, 'z'), std::string("\x00\x01\x02", 3)}) {
    CAPTURE(payload.size());
    std::string buf = frame(payload);
    auto got = take_frame(buf);
    REQUIRE_MESSAGE(got.ok(), got.status().to_string());
    REQUIRE(got->has_value());
    CHECK(**got == payload);
    CHECK(buf.empty());
    // Nothing more.
    got = take_frame(buf);
    REQUIRE(got.ok());
    CHECK_FALSE(got->has_value());
  }
}

TEST_CASE("control protocol: every prefix of a frame is 'not yet'") {
  const std::string payload = "unregister-pgid 31337";
  const std::string f = frame(payload);
  for (size_t n = 0; n < f.size(); ++n) {
    CAPTURE(n);
    std::string buf = f.substr(0, n);
    auto got = take_frame(buf);
    REQUIRE_MESSAGE(got.ok(), got.status().to_string());
    CHECK_FALSE(got->has_value());
    CHECK(buf == f.substr(0, n));  // untouched
  }
  // Fed one byte at a time, as a stream socket may deliver it.
  std::string buf;
  int frames = 0;
  for (size_t n = 0; n < f.size(); ++n) {
    buf.push_back(f[n]);
    auto got = take_frame(buf);
    REQUIRE(got.ok());
    if (got->has_value()) {
      CHECK(n == f.size() - 1);
      CHECK(**got == payload);
      ++frames;
    }
  }
  CHECK(frames == 1);
  CHECK(buf.empty());
}

TEST_CASE("control protocol: several frames in one buffer") {
  std::string buf = frame("status") + frame("register-pgid 7") + frame("leave");
  const std::string tail = frame("subscribe");
  buf += tail.substr(0, 8);  // and the start of a fourth

  auto a = take_frame(buf);
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK(**a == "status");
  auto b = take_frame(buf);
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK(**b == "register-pgid 7");
  auto c = take_frame(buf);
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK(**c == "leave");
  auto d = take_frame(buf);
  REQUIRE(d.ok());
  CHECK_FALSE(d->has_value());
  CHECK(buf == tail.substr(0, 8));
  buf += tail.substr(8);
  d = take_frame(buf);
  REQUIRE(d.ok());
  REQUIRE(d->has_value());
  CHECK(**d == "subscribe");
  CHECK(buf.empty());
}

TEST_CASE("control protocol: a good frame followed by a malformed one") {
  std::string buf = frame("status") + header(0) + "junk";
  auto a = take_frame(buf);
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK(**a == "status");
  const std::string rest = buf;
  auto b = take_frame(buf);
  CHECK_FALSE(b.ok());
  CHECK(buf == rest);
}

TEST_CASE("control protocol: bad lengths are errors at once") {
  SUBCASE("length 0") {
    std::string buf = header(0);
    auto got = take_frame(buf);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Code::invalid_argument);
    CHECK(buf == header(0));  // left as it was
  }
  SUBCASE("length kMaxPayload is fine, kMaxPayload + 1 is not") {
    std::string buf = header(uint32_t(kMaxPayload));
    auto got = take_frame(buf);
    REQUIRE(got.ok());
    CHECK_FALSE(got->has_value());  // waits for the body

    buf = header(uint32_t(kMaxPayload + 1));
    got = take_frame(buf);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Code::invalid_argument);
    CHECK(buf == header(uint32_t(kMaxPayload + 1)));
  }
  SUBCASE("a header declaring 1 GiB is refused with only the header received") {
    std::string buf = header(1u << 30);
    auto got = take_frame(buf);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Code::invalid_argument);
    CHECK(buf.size() == kFrameHeaderSize);
    // Also with some body bytes already there, and with the largest possible length.
    buf = header(1u << 30) + std::string(100, 'b');
    CHECK_FALSE(take_frame(buf).ok());
    CHECK(buf.size() == kFrameHeaderSize + 100);
    buf = header(0xffffffffu);
    CHECK_FALSE(take_frame(buf).ok());
  }
  SUBCASE("a length check does not wait for the version bytes to be valid") {
    std::string buf = header(1u << 30, 7);
    CHECK_FALSE(take_frame(buf).ok());
  }
}

TEST_CASE("control protocol: another version") {
  for (uint16_t v : {uint16_t(0), uint16_t(2), uint16_t(0x0100), uint16_t(0xffff)}) {
    CAPTURE(v);
    std::string buf = header(6, v) + "status";
    const std::string before = buf;
    auto got = take_frame(buf);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Code::unsupported);
    CHECK(buf == before);
    // Refused as soon as the header is complete, before the body.
    buf = header(6, v);
    CHECK_FALSE(take_frame(buf).ok());
  }
}

TEST_CASE("control protocol: parse_request") {
  SUBCASE("verb and args") {
    auto r = parse_request("register-pgid 1234");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    CHECK(r->verb == "register-pgid");
    CHECK(r->args == "1234");

    r = parse_request("table-set web owned 1 5 3 0 0 99");
    REQUIRE(r.ok());
    CHECK(r->verb == "table-set");
    CHECK(r->args == "web owned 1 5 3 0 0 99");  // the rest after the first space, as is

    r = parse_request("x  two  spaces ");
    REQUIRE(r.ok());
    CHECK(r->verb == "x");
    CHECK(r->args == " two  spaces ");

    r = parse_request("leave ");
    REQUIRE(r.ok());
    CHECK(r->verb == "leave");
    CHECK(r->args.empty());

    r = parse_request("v2 ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./");
    REQUIRE(r.ok());
    CHECK(r->verb == "v2");
  }
  SUBCASE("verb only") {
    for (const char* v : {"status", "leave", "subscribe", "a", "0", "-", "table-own", "x-1-y"}) {
      CAPTURE(v);
      auto r = parse_request(v);
      REQUIRE_MESSAGE(r.ok(), r.status().to_string());
      CHECK(r->verb == v);
      CHECK(r->args.empty());
    }
  }
  SUBCASE("bad verbs") {
    for (const char* v : {"", " ", " status", "Status", "STATUS", "stat_us", "stat.us", "status!", "/status",
                          "sta+tus 1", "@", "é"}) {
      CAPTURE(v);
      auto r = parse_request(v);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::invalid_argument);
    }
  }
  SUBCASE("non-printable bytes and newlines") {
    for (const std::string& p :
         {std::string("status\n"), std::string("status\r\n"), std::string("status\r"), std::string("sta\ttus"),
          std::string("register-pgid 1\n2"), std::string("status\x7f"), std::string("status\x80"),
          std::string("status \xff"), std::string("status\x1b[0m"), std::string("status\0", 7),
          std::string("\0status", 7), std::string("\n"), std::string("register-pgid 12\t")}) {
      CAPTURE(p);
      auto r = parse_request(p);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::invalid_argument);
    }
  }
  SUBCASE("very long requests") {
    const std::string args(kMaxPayload - 7, 'a');
    auto r = parse_request("status " + args);
    REQUIRE(r.ok());
    CHECK(r->verb == "status");
    CHECK(r->args == args);

    const std::string long_verb(kMaxPayload, 'v');
    r = parse_request(long_verb);
    REQUIRE(r.ok());
    CHECK(r->verb == long_verb);

    std::string bad(kMaxPayload, 'a');
    bad[kMaxPayload - 1] = '\n';
    CHECK_FALSE(parse_request(bad).ok());
  }
}

TEST_CASE("control protocol: a request through a frame and back") {
  std::string buf = frame("register-pgid 555");
  auto p = take_frame(buf);
  REQUIRE(p.ok());
  REQUIRE(p->has_value());
  auto r = parse_request(**p);
  REQUIRE(r.ok());
  CHECK(r->verb == "register-pgid");
  CHECK(r->args == "555");
}

TEST_CASE("control protocol: deterministic fuzz of take_frame and parse_request") {
  std::mt19937 rng(0xC0FFEE);
  auto byte = [&] { return char(std::uniform_int_distribution<int>(0, 255)(rng)); };
  auto upto = [&](int n) { return std::uniform_int_distribution<int>(0, n)(rng); };
  int frames_taken = 0, requests_accepted = 0, errors = 0;

  for (int iter = 0; iter < 20000; ++iter) {
    std::string buf;
    switch (upto(3)) {
      case 0: {  // pure noise
        int n = upto(40);
        for (int i = 0; i < n; ++i) buf.push_back(byte());
        break;
      }
      case 1: {  // a plausible header (small length, version 1 mostly) with a random body
        uint32_t len = uint32_t(upto(24));
        buf = header(len, upto(7) == 0 ? uint16_t(upto(3)) : kProtocolVersion);
        int n = upto(30);
        for (int i = 0; i < n; ++i) buf.push_back(upto(3) == 0 ? byte() : char(0x20 + upto(0x5e)));
        break;
      }
      case 2: {  // a well-formed frame of mostly request-like text, maybe followed by noise
        std::string p;
        int n = 1 + upto(20);
        const char alphabet[] = "abcxyz019- -Z!\t\n\x7f";
        for (int i = 0; i < n; ++i) p.push_back(alphabet[upto(int(sizeof alphabet) - 2)]);
        buf = frame(p);
        int extra = upto(10);
        for (int i = 0; i < extra; ++i) buf.push_back(byte());
        break;
      }
      default: {  // a huge or zero length, then noise
        buf = header(upto(1) ? uint32_t(kMaxPayload + 1 + uint32_t(upto(1 << 30))) : 0u, kProtocolVersion);
        int n = upto(10);
        for (int i = 0; i < n; ++i) buf.push_back(byte());
        break;
      }
    }
    // Take frames until the buffer runs dry or turns out malformed.
    for (int guard = 0; guard < 100; ++guard) {
      const std::string before = buf;
      auto got = take_frame(buf);
      if (!got.ok()) {
        ++errors;
        REQUIRE(buf == before);  // an error leaves the buffer as it was
        break;
      }
      if (!got->has_value()) {
        REQUIRE(buf == before);
        break;
      }
      ++frames_taken;
      const std::string& payload = **got;
      REQUIRE(!payload.empty());
      REQUIRE(payload.size() <= kMaxPayload);
      REQUIRE(buf.size() == before.size() - kFrameHeaderSize - payload.size());
      auto req = parse_request(payload);
      if (req.ok()) {
        ++requests_accepted;
        REQUIRE(printable_one_line(payload));
        REQUIRE(verb_well_formed(req->verb));
        REQUIRE(printable_one_line(req->args));
        const std::string rebuilt = req->args.empty() && payload.find(' ') == std::string::npos
                                        ? req->verb
                                        : req->verb + " " + req->args;
        REQUIRE(rebuilt == payload);
      } else {
        REQUIRE(req.status().code() == Code::invalid_argument);
      }
    }
    // parse_request on the raw bytes too.
    auto raw = parse_request(buf);
    if (raw.ok()) {
      REQUIRE(printable_one_line(buf));
      REQUIRE(verb_well_formed(raw->verb));
    }
  }
  // The generator must actually exercise every outcome.
  CHECK(frames_taken > 1000);
  CHECK(requests_accepted > 100);
  CHECK(errors > 1000);
}

TEST_CASE("control protocol: replies may be larger than requests (a status of 1000 services), up to kMaxReplyPayload") {
  const std::string big(200 * 1024, 'r');  // larger than any request may be
  CHECK_FALSE(encode_frame(big).ok());     // not as a request
  auto frame = encode_frame(big, kMaxReplyPayload);
  REQUIRE(frame.ok());
  std::string as_request = *frame;
  CHECK_FALSE(take_frame(as_request).ok());  // a daemon refuses it
  std::string as_reply = *frame;
  auto got = take_frame(as_reply, kMaxReplyPayload);  // a client takes it
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK(**got == big);
  CHECK_FALSE(encode_frame(std::string(kMaxReplyPayload + 1, 'r'), kMaxReplyPayload).ok());
}
