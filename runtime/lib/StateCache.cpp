//===- StateCache.cpp - recurrent states with two-phase steps -------------===//
//
// This file implements the attnrt_state_* entry points. Each sequence owns
// checkpoints + 2 state buffers (a state is num_tensors f32 tensors, each
// starting on a 64-byte boundary): the current state, up to `checkpoints`
// earlier states, and the out buffer of an open step. Steps and rollbacks
// move buffer indices, never state contents: commit makes the out buffer
// current and pushes the old current state onto the checkpoint ring
// (dropping the oldest when the ring is full), truncate makes a checkpoint
// current and frees every newer buffer. Only fork and reset touch contents.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <algorithm>
#include <climits>
#include <cstdio>

using namespace attnrt;

namespace {
constexpr int32_t kNoStep = -1;
} // namespace

struct ATTNRT_INTERNAL attnrt_state_cache : CacheBase {
  attnrt_status init(const char *fn, const attnrt_state_cache_desc &desc);

  int32_t sequenceLength(int32_t seq) const { return lengths[size_t(seq)]; }
  void clearSequence(int32_t seq);
  void copySequence(int32_t from, int32_t to);
  size_t usedBytes() const;
  int32_t freePages() const { return -1; }
  /// Nothing a kernel reads is kept on the host: step_begin hands out the
  /// state buffers themselves.
  void publish(int32_t) const {}

  /// Tensor `index` of buffer `buffer` of `seq`.
  float *tensor(int32_t seq, int32_t buffer, int32_t index) const {
    return reinterpret_cast<float *>(
        storage.data() +
        (size_t(seq) * buffersPerSeq + size_t(buffer)) * stateBytes +
        tensorOffsets[index]);
  }
  uint8_t *state(int32_t seq, int32_t buffer) const {
    return reinterpret_cast<uint8_t *>(tensor(seq, buffer, 0));
  }
  /// Checkpoint i of `seq`, oldest first: its buffer and its length.
  int32_t &checkpointBuffer(int32_t seq, int32_t i) const {
    return checkpointBuffers[size_t(seq) * size_t(desc.checkpoints) +
                             size_t(i)];
  }
  int32_t &checkpointLength(int32_t seq, int32_t i) const {
    return checkpointLengths[size_t(seq) * size_t(desc.checkpoints) +
                             size_t(i)];
  }
  /// A buffer of `seq` holding neither its current state nor a checkpoint.
  int32_t spareBuffer(int32_t seq) const;
  void commit(int32_t seq);
  attnrt_status failStepOpen(const char *fn, int32_t seq) const;

  attnrt_state_cache_desc desc = {};
  size_t tensorOffsets[ATTNRT_STATE_MAX_TENSORS] = {};
  size_t stateBytes = 0;
  size_t buffersPerSeq = 0; // checkpoints + 2
  Buffer<uint8_t> storage;  // [max_seqs, buffersPerSeq, stateBytes]
  Buffer<int32_t> lengths, current, stepBuffer, stepTokens; // [max_seqs]
  Buffer<int32_t> checkpointCount;                          // [max_seqs]
  Buffer<int32_t> checkpointBuffers, checkpointLengths;     // [max_seqs, ckpts]
};

attnrt_status attnrt_state_cache::init(const char *fn,
                                       const attnrt_state_cache_desc &d) {
  if (d.num_tensors < 1 || d.num_tensors > ATTNRT_STATE_MAX_TENSORS)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: num_tensors must be in [1, %d], got %d", fn,
                 ATTNRT_STATE_MAX_TENSORS, d.num_tensors);
  if (d.checkpoints < 0)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: checkpoints must be >= 0, got %d", fn, d.checkpoints);
  // Tensor offsets within one state, each rounded up to 64 bytes.
  size_t offset = 0;
  for (int32_t i = 0; i < d.num_tensors; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "tensor_elements[%d]", i);
    if (attnrt_status s = checkPositive(fn, name, d.tensor_elements[i]))
      return s;
    size_t bytes = 0;
    if (attnrt_status s =
            checkedSize(fn, name, {size_t(d.tensor_elements[i]), 4}, bytes))
      return s;
    tensorOffsets[i] = offset;
    if (!alignUp(bytes, bytes) || offset > SIZE_MAX - bytes)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: a state of these tensors overflows size_t", fn);
    offset += bytes;
  }
  stateBytes = offset;
  buffersPerSeq = size_t(d.checkpoints) + 2;
  if (attnrt_status s = checkMemory(fn, d.memory, memory))
    return s;
  if (attnrt_status s = allocateSlots(fn, d.max_seqs))
    return s;
  desc = d;
  size_t seqs = size_t(d.max_seqs), storageBytes = 0;
  if (attnrt_status s = checkedSize(
          fn, "the states", {seqs, buffersPerSeq, stateBytes}, storageBytes))
    return s;
  if (attnrt_status s =
          allocate(fn, "the states", storage, storageBytes, memory))
    return s;
  for (Buffer<int32_t> *b :
       {&lengths, &current, &stepBuffer, &stepTokens, &checkpointCount})
    if (attnrt_status s = allocate(fn, "sequence records", *b, seqs))
      return s;
  size_t ring = seqs * size_t(d.checkpoints); // < seqs * buffersPerSeq
  for (Buffer<int32_t> *b : {&checkpointBuffers, &checkpointLengths})
    if (attnrt_status s = allocate(fn, "checkpoint records", *b, ring))
      return s;
  for (size_t s = 0; s < seqs; ++s)
    stepBuffer[s] = kNoStep;
  return ATTNRT_OK;
}

void attnrt_state_cache::clearSequence(int32_t seq) {
  zeroBytes(memory, state(seq, current[size_t(seq)]), stateBytes);
  lengths[size_t(seq)] = 0;
  stepBuffer[size_t(seq)] = kNoStep;
  checkpointCount[size_t(seq)] = 0;
}

void attnrt_state_cache::copySequence(int32_t from, int32_t to) {
  // The child gets the same buffer indices, so only the held buffers move.
  auto copyBuffer = [&](int32_t buffer) {
    copyBytes(memory, state(to, buffer), state(from, buffer), stateBytes);
  };
  current[size_t(to)] = current[size_t(from)];
  copyBuffer(current[size_t(from)]);
  int32_t count = checkpointCount[size_t(from)];
  for (int32_t i = 0; i < count; ++i) {
    checkpointBuffer(to, i) = checkpointBuffer(from, i);
    checkpointLength(to, i) = checkpointLength(from, i);
    copyBuffer(checkpointBuffer(from, i));
  }
  checkpointCount[size_t(to)] = count;
  lengths[size_t(to)] = lengths[size_t(from)];
  stepBuffer[size_t(to)] = kNoStep;
}

int32_t attnrt_state_cache::spareBuffer(int32_t seq) const {
  for (int32_t b = 0;; ++b) {
    bool held = b == current[size_t(seq)];
    for (int32_t i = 0; i < checkpointCount[size_t(seq)] && !held; ++i)
      held = checkpointBuffer(seq, i) == b;
    if (!held)
      return b; // one exists: at most checkpoints + 1 of the buffers are held
  }
}

void attnrt_state_cache::commit(int32_t seq) {
  size_t s = size_t(seq);
  if (desc.checkpoints > 0) {
    int32_t count = checkpointCount[s];
    if (count == desc.checkpoints) {
      for (int32_t i = 1; i < count; ++i) {
        checkpointBuffer(seq, i - 1) = checkpointBuffer(seq, i);
        checkpointLength(seq, i - 1) = checkpointLength(seq, i);
      }
      --count;
    }
    checkpointBuffer(seq, count) = current[s];
    checkpointLength(seq, count) = lengths[s];
    checkpointCount[s] = count + 1;
  }
  current[s] = stepBuffer[s];
  lengths[s] += stepTokens[s];
  stepBuffer[s] = kNoStep;
}

size_t attnrt_state_cache::usedBytes() const {
  size_t states = 0;
  for (int32_t s = 0; s < slotCount(); ++s)
    if (isLive(s))
      states += 1 + size_t(checkpointCount[size_t(s)]) +
                (stepBuffer[size_t(s)] != kNoStep ? 1 : 0);
  return states * stateBytes;
}

attnrt_status attnrt_state_cache::failStepOpen(const char *fn,
                                               int32_t seq) const {
  return failf(ATTNRT_INVALID_ARGUMENT,
               "%s: sequence %d has an open step of %d tokens; commit or "
               "abort it first",
               fn, seq, stepTokens[size_t(seq)]);
}

namespace {

/// Commit and abort: both need an open step.
template <typename Finish>
attnrt_status finishStep(const char *fn, attnrt_state_cache *cache, int32_t seq,
                         Finish &&finish) {
  return withLock(fn, cache, [&] {
    if (attnrt_status s = cache->checkSequence(fn, seq))
      return s;
    if (cache->stepBuffer[size_t(seq)] == kNoStep)
      return failf(ATTNRT_INVALID_ARGUMENT, "%s: sequence %d has no open step",
                   fn, seq);
    finish();
    return ATTNRT_OK;
  });
}

} // namespace

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

#pragma GCC visibility push(default)

extern "C" {

ATTNRT_DEFINE_CACHE_ENTRY_POINTS(state)

attnrt_status attnrt_state_reset(attnrt_state_cache *cache, int32_t seq) {
  const char *fn = "attnrt_state_reset";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = cache->checkSequence(fn, seq))
      return s;
    if (cache->stepBuffer[size_t(seq)] != kNoStep)
      return cache->failStepOpen(fn, seq);
    cache->clearSequence(seq);
    return ATTNRT_OK;
  });
}

attnrt_status attnrt_state_step_begin(attnrt_state_cache *cache, int32_t seq,
                                      int32_t tokens, float **in, float **out) {
  const char *fn = "attnrt_state_step_begin";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = cache->checkSequence(fn, seq))
      return s;
    if (attnrt_status s = checkNotNull(fn, "in", in))
      return s;
    if (attnrt_status s = checkNotNull(fn, "out", out))
      return s;
    if (attnrt_status s = checkPositive(fn, "tokens", tokens))
      return s;
    if (cache->stepBuffer[size_t(seq)] != kNoStep)
      return cache->failStepOpen(fn, seq);
    int32_t length = cache->lengths[size_t(seq)];
    if (tokens > INT32_MAX - length)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: sequence %d has %d tokens; a step of %d would pass "
                   "INT32_MAX",
                   fn, seq, length, tokens);
    int32_t spare = cache->spareBuffer(seq);
    for (int32_t i = 0; i < cache->desc.num_tensors; ++i) {
      in[i] = cache->tensor(seq, cache->current[size_t(seq)], i);
      out[i] = cache->tensor(seq, spare, i);
    }
    cache->stepBuffer[size_t(seq)] = spare;
    cache->stepTokens[size_t(seq)] = tokens;
    return ATTNRT_OK;
  });
}

attnrt_status attnrt_state_step_commit(attnrt_state_cache *cache, int32_t seq) {
  return finishStep("attnrt_state_step_commit", cache, seq,
                    [&] { cache->commit(seq); });
}

attnrt_status attnrt_state_step_abort(attnrt_state_cache *cache, int32_t seq) {
  return finishStep("attnrt_state_step_abort", cache, seq,
                    [&] { cache->stepBuffer[size_t(seq)] = kNoStep; });
}

attnrt_status attnrt_state_truncate(attnrt_state_cache *cache, int32_t seq,
                                    int32_t length) {
  const char *fn = "attnrt_state_truncate";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = cache->checkSequence(fn, seq))
      return s;
    if (cache->stepBuffer[size_t(seq)] != kNoStep)
      return cache->failStepOpen(fn, seq);
    int32_t currentLength = cache->lengths[size_t(seq)];
    if (length == currentLength)
      return ATTNRT_OK;
    int32_t count = cache->checkpointCount[size_t(seq)];
    for (int32_t i = 0; i < count; ++i)
      if (cache->checkpointLength(seq, i) == length) {
        cache->current[size_t(seq)] = cache->checkpointBuffer(seq, i);
        cache->lengths[size_t(seq)] = length;
        cache->checkpointCount[size_t(seq)] = i;
        return ATTNRT_OK;
      }
    if (count == 0)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: sequence %d has %d tokens and no checkpoints; it "
                   "cannot return to %d",
                   fn, seq, currentLength, length);
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: sequence %d has %d tokens and checkpoints at %d..%d "
                 "tokens (the last %d commits); %d is none of them",
                 fn, seq, currentLength, cache->checkpointLength(seq, 0),
                 cache->checkpointLength(seq, count - 1), count, length);
  });
}

attnrt_status attnrt_state_read(attnrt_state_cache *cache, int32_t seq,
                                int32_t index, float *dst) {
  const char *fn = "attnrt_state_read";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = cache->checkSequence(fn, seq))
      return s;
    if (attnrt_status s = checkNotNull(fn, "dst", dst))
      return s;
    if (index < 0 || index >= cache->desc.num_tensors)
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: tensor index %d is outside [0, %d) (num_tensors)", fn,
                   index, cache->desc.num_tensors);
    copyBytes(cache->memory, dst,
              cache->tensor(seq, cache->current[size_t(seq)], index),
              size_t(cache->desc.tensor_elements[index]) * sizeof(float));
    return ATTNRT_OK;
  });
}

} // extern "C"

#pragma GCC visibility pop
