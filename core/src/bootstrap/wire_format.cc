#include "bootstrap/wire_format.h"

#include "absl/strings/str_cat.h"

namespace mc::bootstrap {
namespace {

void PutU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutU64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutBytes(std::string_view bytes, std::string* out) {
  PutU32(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes);
}

uint64_t LoadBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// Reads fields off the front of a body; every read checks what is left.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}

  absl::StatusOr<uint64_t> Fixed(size_t bytes, const char* field) {
    if (rest_.size() < bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("frame truncated in ", field, ": needs ", bytes, " bytes, ", rest_.size(), " left"));
    }
    uint64_t v = LoadBigEndian(rest_.substr(0, bytes));
    rest_.remove_prefix(bytes);
    return v;
  }

  absl::StatusOr<std::string> Bytes(size_t limit, const char* field) {
    absl::StatusOr<uint64_t> length = Fixed(4, field);
    if (!length.ok()) return length.status();
    if (*length > limit) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " of ", *length, " bytes is over the limit of ", limit));
    }
    if (*length > rest_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " announces ", *length, " bytes but only ", rest_.size(), " follow"));
    }
    std::string bytes(rest_.substr(0, *length));
    rest_.remove_prefix(*length);
    return bytes;
  }

  size_t left() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

bool IsOp(uint8_t kind) { return kind >= static_cast<uint8_t>(Op::kHello) && kind <= static_cast<uint8_t>(Op::kAdd); }
bool IsReply(uint8_t kind) {
  return kind >= static_cast<uint8_t>(Reply::kOk) && kind <= static_cast<uint8_t>(Reply::kError);
}

}  // namespace

std::string EncodeFrame(const Message& message) {
  std::string body;
  body.push_back(static_cast<char>(message.kind));
  PutU64(static_cast<uint64_t>(message.number), &body);
  PutU32(static_cast<uint32_t>(message.keys.size()), &body);
  for (const std::string& key : message.keys) PutBytes(key, &body);
  PutBytes(message.value, &body);

  std::string frame;
  frame.reserve(kFrameHeaderBytes + body.size());
  PutU32(static_cast<uint32_t>(body.size()), &frame);
  frame.append(body);
  return frame;
}

absl::StatusOr<size_t> ParseFrameHeader(std::string_view header) {
  if (header.size() != kFrameHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("frame header of ", header.size(), " bytes"));
  }
  uint64_t length = LoadBigEndian(header);
  if (length == 0 || length > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame announces a body of ", length, " bytes (allowed: 1 to ", kMaxFrameBytes, ")"));
  }
  return static_cast<size_t>(length);
}

absl::StatusOr<std::optional<size_t>> CompleteFrameSize(std::string_view buffer) {
  if (buffer.size() < kFrameHeaderBytes) return std::optional<size_t>();
  absl::StatusOr<size_t> length = ParseFrameHeader(buffer.substr(0, kFrameHeaderBytes));
  if (!length.ok()) return length.status();
  if (buffer.size() < kFrameHeaderBytes + *length) return std::optional<size_t>();
  return std::optional<size_t>(kFrameHeaderBytes + *length);
}

absl::StatusOr<Message> DecodeBody(std::string_view body) {
  BodyReader reader(body);
  Message message;
  absl::StatusOr<uint64_t> kind = reader.Fixed(1, "kind");
  if (!kind.ok()) return kind.status();
  message.kind = static_cast<uint8_t>(*kind);
  if (!IsOp(message.kind) && !IsReply(message.kind)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown message kind ", *kind));
  }
  absl::StatusOr<uint64_t> number = reader.Fixed(8, "number");
  if (!number.ok()) return number.status();
  message.number = static_cast<int64_t>(*number);
  absl::StatusOr<uint64_t> key_count = reader.Fixed(4, "key count");
  if (!key_count.ok()) return key_count.status();
  if (*key_count > kMaxWaitKeys) {
    return absl::InvalidArgumentError(
        absl::StrCat("message carries ", *key_count, " keys, over the limit of ", kMaxWaitKeys));
  }
  for (uint64_t i = 0; i < *key_count; ++i) {
    absl::StatusOr<std::string> key = reader.Bytes(kMaxKeyBytes, "key");
    if (!key.ok()) return key.status();
    message.keys.push_back(*std::move(key));
  }
  absl::StatusOr<std::string> value = reader.Bytes(kMaxValueBytes, "value");
  if (!value.ok()) return value.status();
  message.value = *std::move(value);
  if (reader.left() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(reader.left(), " unexpected bytes after the message"));
  }
  return message;
}

absl::Status ValidateRequest(const Message& request) {
  if (!IsOp(request.kind)) {
    return absl::InvalidArgumentError(absl::StrCat("message kind ", request.kind, " is not a request"));
  }
  const Op op = static_cast<Op>(request.kind);
  switch (op) {
    case Op::kHello:
      return absl::OkStatus();
    case Op::kSet:
    case Op::kGet:
    case Op::kAdd:
      if (request.keys.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("request kind ", request.kind, " needs exactly one key, got ", request.keys.size()));
      }
      break;
    case Op::kWait:
      if (request.keys.empty()) return absl::InvalidArgumentError("wait request without keys");
      break;
  }
  for (const std::string& key : request.keys) {
    if (key.empty()) return absl::InvalidArgumentError("request with an empty key");
  }
  if ((op == Op::kGet || op == Op::kWait) && request.number < -1) {
    return absl::InvalidArgumentError(absl::StrCat("request timeout of ", request.number, " ms"));
  }
  return absl::OkStatus();
}

}  // namespace mc::bootstrap
