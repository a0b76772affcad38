#include "common/byte_codec.h"

#include <cstring>

namespace castor {

void ByteWriter::put(uint64_t v, int n) {
  if (!ok_ || out_.size() - pos_ < size_t(n) || pos_ > out_.size()) {
    ok_ = false;
    return;
  }
  for (int i = 0; i < n; ++i) out_[pos_ + i] = std::byte((v >> (8 * i)) & 0xFF);
  pos_ += n;
}

void ByteWriter::bytes(std::span<const std::byte> b) {
  if (!ok_ || pos_ > out_.size() || out_.size() - pos_ < b.size()) {
    ok_ = false;
    return;
  }
  if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
  pos_ += b.size();
}

void ByteWriter::fixed_string(std::string_view s, size_t width) {
  if (s.size() >= width || s.find('\0') != std::string_view::npos) {
    ok_ = false;
    return;
  }
  bytes(std::as_bytes(std::span(s.data(), s.size())));
  zeros(width - s.size());
}

void ByteWriter::zeros(size_t n) {
  if (!ok_ || pos_ > out_.size() || out_.size() - pos_ < n) {
    ok_ = false;
    return;
  }
  std::memset(out_.data() + pos_, 0, n);
  pos_ += n;
}

void ByteWriter::seek(size_t pos) {
  if (pos > out_.size()) ok_ = false;
  else pos_ = pos;
}

uint64_t ByteReader::get(int n) {
  if (!ok_ || pos_ > in_.size() || in_.size() - pos_ < size_t(n)) {
    ok_ = false;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t(std::to_integer<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += n;
  return v;
}

void ByteReader::bytes(std::span<std::byte> out) {
  if (!ok_ || pos_ > in_.size() || in_.size() - pos_ < out.size()) {
    ok_ = false;
    return;
  }
  if (!out.empty()) std::memcpy(out.data(), in_.data() + pos_, out.size());
  pos_ += out.size();
}

std::string ByteReader::fixed_string(size_t width) {
  if (!ok_ || pos_ > in_.size() || in_.size() - pos_ < width || width == 0) {
    ok_ = false;
    return {};
  }
  std::string s;
  size_t i = 0;
  for (; i < width; ++i) {
    auto c = std::to_integer<unsigned char>(in_[pos_ + i]);
    if (c == 0) break;
    if (c < 0x20 || c > 0x7e) ok_ = false;
    s.push_back(char(c));
  }
  if (i == width) ok_ = false;  // no terminator
  for (; i < width; ++i)
    if (in_[pos_ + i] != std::byte{0}) ok_ = false;
  pos_ += width;
  return ok_ ? s : std::string();
}

void ByteReader::skip(size_t n) {
  if (!ok_ || pos_ > in_.size() || in_.size() - pos_ < n) ok_ = false;
  else pos_ += n;
}

void ByteReader::seek(size_t pos) {
  if (pos > in_.size()) ok_ = false;
  else pos_ = pos;
}

}  // namespace castor
