// Explicit little-endian field encoding: the on-disk formats never depend on struct layout or host order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace havre {

template <typename T>
inline T load_le(std::span<const std::byte> bytes, size_t at) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    value |= static_cast<T>(std::to_integer<std::uint8_t>(bytes[at + i])) << (8 * i);
  return value;
}

template <typename T>
inline void store_le(std::span<std::byte> bytes, size_t at, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) bytes[at + i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
}

}  // namespace havre
