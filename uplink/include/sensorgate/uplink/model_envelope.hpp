#pragma once
// Signed model envelopes (model.fbs, file identifier "SGMD"): what the collector pushes to
// gateways. The collector signs with its Ed25519 model-signing key (libsodium); a gateway
// accepts a model only when the FlatBuffers verifier passes, the payload's SHA-256
// matches, the signature verifies against the collector's public key, and the feature
// spec is the one its scoring produces. Any failure is a clear message, never a throw.
//
// Signed bytes (docs/wire-format.md): "SGMD1" | kind (u8) | version (u32 LE) |
// created_at_ns (i64 LE) | feature_spec length (u32 LE) | feature_spec | SHA-256(payload).

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sensorgate::uplink {

enum class ModelKind : std::uint8_t { kKMeans = 0, kLogisticRegression = 1, kLinearRegression = 2 };

struct ModelRecord {
  ModelKind kind = ModelKind::kKMeans;
  std::uint32_t version = 0;
  std::string feature_spec;  ///< e.g. kernels::feature_spec(channels)
  std::int64_t created_at_ns = 0;
  std::vector<std::uint8_t> payload;  ///< e.g. StreamingKMeans::to_flat() as bytes
};

using PublicKey = std::array<std::uint8_t, 32>;
using SecretKey = std::array<std::uint8_t, 64>;

struct SigningKeys {
  PublicKey public_key{};
  SecretKey secret_key{};
  /// A fresh Ed25519 key pair. Throws std::runtime_error when libsodium cannot start.
  static SigningKeys generate();
};

/// Key files: one line of lowercase hex (64 digits public, 128 secret). The secret file is
/// created with mode 0600 and neither is overwritten. Throw std::runtime_error naming the
/// file and the problem (missing, exists, malformed, secret readable by others).
void write_signing_keys(const SigningKeys& keys, const std::filesystem::path& public_file,
                        const std::filesystem::path& secret_file);
PublicKey read_public_key_file(const std::filesystem::path& file);
SecretKey read_secret_key_file(const std::filesystem::path& file);

/// The envelope of `model`, hashed and signed with `secret_key`.
std::vector<std::uint8_t> encode_signed_model(const ModelRecord& model, const SecretKey& secret_key);

/// The version an envelope claims, read without checking hash or signature (to name a
/// refused model in answers and logs; never to act on). Nullopt when it is not an envelope.
std::optional<std::uint32_t> claimed_model_version(std::span<const std::uint8_t> buffer);

/// Verifies and decodes an envelope: structure, SHA-256 of the payload, Ed25519 signature
/// by `public_key`, and (unless empty) `expected_feature_spec`. On failure returns nullopt
/// and says why in `error`.
std::optional<ModelRecord> verify_signed_model(std::span<const std::uint8_t> buffer, const PublicKey& public_key,
                                               std::string_view expected_feature_spec, std::string& error);

}  // namespace sensorgate::uplink
