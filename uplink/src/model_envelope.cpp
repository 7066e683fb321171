#include "sensorgate/uplink/model_envelope.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "sensorgate/wire/model_generated.h"

namespace sensorgate::uplink {
namespace {

static_assert(std::endian::native == std::endian::little, "the signed bytes are little-endian");

using Sha256 = std::array<std::uint8_t, crypto_hash_sha256_BYTES>;

void start_sodium() {
  // sodium_init is idempotent and thread-safe; < 0 means no usable entropy source.
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

Sha256 sha256(std::span<const std::uint8_t> bytes) {
  Sha256 digest{};
  crypto_hash_sha256(digest.data(), bytes.data(), bytes.size());
  return digest;
}

/// Writes `size` bytes at `pos` and advances it (the message is sized up front).
void put(std::vector<std::uint8_t>& out, std::size_t& pos, const void* data, std::size_t size) {
  std::memcpy(out.data() + pos, data, size);
  pos += size;
}

std::vector<std::uint8_t> signed_bytes(ModelKind kind, std::uint32_t version, std::int64_t created_at_ns,
                                       std::string_view feature_spec, const Sha256& digest) {
  constexpr std::string_view kDomain = "SGMD1";
  const auto kind_byte = static_cast<std::uint8_t>(kind);
  const auto spec_size = static_cast<std::uint32_t>(feature_spec.size());
  std::vector<std::uint8_t> out(kDomain.size() + sizeof(kind_byte) + sizeof(version) + sizeof(created_at_ns) +
                                sizeof(spec_size) + feature_spec.size() + digest.size());
  std::size_t pos = 0;
  put(out, pos, kDomain.data(), kDomain.size());
  put(out, pos, &kind_byte, sizeof(kind_byte));
  put(out, pos, &version, sizeof(version));
  put(out, pos, &created_at_ns, sizeof(created_at_ns));
  put(out, pos, &spec_size, sizeof(spec_size));
  put(out, pos, feature_spec.data(), feature_spec.size());
  put(out, pos, digest.data(), digest.size());
  return out;
}

}  // namespace

SigningKeys SigningKeys::generate() {
  start_sodium();
  SigningKeys keys;
  crypto_sign_keypair(keys.public_key.data(), keys.secret_key.data());
  return keys;
}

namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

template <std::size_t N>
std::array<std::uint8_t, N> read_hex_key(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read {}: {}", file.string(), what, errno_text(errno)));
  std::string text;
  std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  std::array<std::uint8_t, N> key{};
  std::size_t length = 0;
  if (text.size() != 2 * N ||
      sodium_hex2bin(key.data(), key.size(), text.c_str(), text.size(), nullptr, &length, nullptr) != 0 ||
      length != N) {
    throw std::runtime_error(
        fmt::format("{}: not a {} ({} hex digits expected on the first line)", file.string(), what, 2 * N));
  }
  return key;
}

void write_key_file(const std::filesystem::path& file, std::span<const std::uint8_t> key, mode_t mode) {
  // O_EXCL: never overwrite a key (a lost key means every gateway must be re-provisioned).
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot create key file: {}", file.string(), errno_text(errno)));
  std::string hex(key.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.back() = '\n';
  const bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(fmt::format("{}: cannot write key file: {}", file.string(), errno_text(saved)));
}

}  // namespace

void write_signing_keys(const SigningKeys& keys, const std::filesystem::path& public_file,
                        const std::filesystem::path& secret_file) {
  write_key_file(secret_file, keys.secret_key, S_IRUSR | S_IWUSR);
  write_key_file(public_file, keys.public_key, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
}

PublicKey read_public_key_file(const std::filesystem::path& file) {
  return read_hex_key<32>(file, "Ed25519 public key");
}

SecretKey read_secret_key_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error(fmt::format("{}: the signing key is readable by others; chmod 600 it", file.string()));
  }
  return read_hex_key<64>(file, "Ed25519 secret key");
}

std::vector<std::uint8_t> encode_signed_model(const ModelRecord& model, const SecretKey& secret_key) {
  start_sodium();
  const Sha256 digest = sha256(model.payload);
  const auto message = signed_bytes(model.kind, model.version, model.created_at_ns, model.feature_spec, digest);
  std::array<std::uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_key.data());
  flatbuffers::FlatBufferBuilder fbb(model.payload.size() + 256);
  const auto spec = fbb.CreateString(model.feature_spec);
  const auto hash = fbb.CreateVector(digest.data(), digest.size());
  const auto sig = fbb.CreateVector(signature.data(), signature.size());
  const auto payload = fbb.CreateVector(model.payload);
  fbb.Finish(wire::CreateModelEnvelope(fbb, static_cast<wire::ModelKind>(model.kind), model.version, spec,
                                       model.created_at_ns, hash, sig, payload),
             wire::ModelEnvelopeIdentifier());
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::optional<std::uint32_t> claimed_model_version(std::span<const std::uint8_t> buffer) {
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!wire::VerifyModelEnvelopeBuffer(verifier)) return std::nullopt;
  return wire::GetModelEnvelope(buffer.data())->version();
}

std::optional<ModelRecord> verify_signed_model(std::span<const std::uint8_t> buffer, const PublicKey& public_key,
                                               std::string_view expected_feature_spec, std::string& error) {
  flatbuffers::Verifier verifier(buffer.data(), buffer.size());
  if (!wire::VerifyModelEnvelopeBuffer(verifier)) {
    error = "not a valid ModelEnvelope (FlatBuffers verification failed)";
    return std::nullopt;
  }
  const auto* env = wire::GetModelEnvelope(buffer.data());
  if (env->kind() > wire::ModelKind::MAX) {
    error = "unknown model kind " + std::to_string(static_cast<int>(env->kind()));
    return std::nullopt;
  }
  const std::span<const std::uint8_t> payload(env->payload()->data(), env->payload()->size());
  const Sha256 digest = sha256(payload);
  if (env->sha256()->size() != digest.size() || std::memcmp(env->sha256()->data(), digest.data(), digest.size()) != 0) {
    error = "payload SHA-256 does not match the envelope's";
    return std::nullopt;
  }
  if (env->signature() == nullptr || env->signature()->size() != crypto_sign_BYTES) {
    error = "model is not signed";
    return std::nullopt;
  }
  const std::string_view spec(env->feature_spec()->c_str(), env->feature_spec()->size());
  const auto message =
      signed_bytes(static_cast<ModelKind>(env->kind()), env->version(), env->created_at_ns(), spec, digest);
  start_sodium();
  if (crypto_sign_verify_detached(env->signature()->data(), message.data(), message.size(), public_key.data()) != 0) {
    error = "signature does not verify with the collector's public key";
    return std::nullopt;
  }
  if (!expected_feature_spec.empty() && spec != expected_feature_spec) {
    error = "feature spec \"" + std::string(spec.substr(0, 80)) + "\" differs from this gateway's \"" +
            std::string(expected_feature_spec.substr(0, 80)) + "\"";
    return std::nullopt;
  }
  return ModelRecord{static_cast<ModelKind>(env->kind()), env->version(), std::string(spec), env->created_at_ns(),
                     std::vector<std::uint8_t>(payload.begin(), payload.end())};
}

}  // namespace sensorgate::uplink
