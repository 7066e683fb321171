#pragma once
// The fixed Ed25519 model-signing key pair of the model_envelope target and its seeds
// (make_corpus signs the seed envelopes with it): derived from a constant seed, so the
// corpus verifies on every run and machine. A test key, never a real one.

#include <sodium.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "sensorgate/uplink/model_envelope.hpp"

namespace sensorgate::fuzz {

inline uplink::SigningKeys fixed_signing_keys() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
  std::array<std::uint8_t, crypto_sign_SEEDBYTES> seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(0x5A ^ i);
  uplink::SigningKeys keys;
  crypto_sign_seed_keypair(keys.public_key.data(), keys.secret_key.data(), seed.data());
  return keys;
}

}  // namespace sensorgate::fuzz
