//===- CacheStateTest.cpp - unit tests of the recurrent-state cache -------===//
//
// attnrt_state_*: two-phase steps (begin hands out the current state and an
// out buffer, commit makes it current, abort forgets it), the checkpoint
// ring (truncate to the lengths before the last `checkpoints` commits works,
// older ones are refused), fork, reset, memory, refused calls, and a
// randomised run against a model of committed states. Two tensors of 60 and
// 12 floats (S [3, 4, 5] and z [3, 4] of a linear-attention layer).
//
//===----------------------------------------------------------------------===//

#include "CacheTestSupport.h"

#include <algorithm>
#include <deque>
#include <map>

using namespace cachetest;

namespace {

constexpr int64_t kSizes[2] = {60, 12};
// Each tensor starts on a 64-byte boundary: 240 -> 256 and 48 -> 64 bytes.
constexpr size_t kStateBytes = 256 + 64;

using State = std::vector<std::vector<float>>; // one vector per tensor

attnrt_state_cache_desc stateDesc(int32_t maxSeqs, int32_t checkpoints) {
  attnrt_state_cache_desc d = {};
  d.max_seqs = maxSeqs;
  d.num_tensors = 2;
  d.tensor_elements[0] = kSizes[0];
  d.tensor_elements[1] = kSizes[1];
  d.checkpoints = checkpoints;
  return d;
}

State zeroState() { return {std::vector<float>(60), std::vector<float>(12)}; }

State randomState(std::mt19937 &rng) {
  State s;
  for (int64_t n : kSizes) {
    Bytes b = randomElements(ATTNRT_F32, size_t(n), rng);
    s.emplace_back(size_t(n));
    std::memcpy(s.back().data(), b.data(), b.size());
  }
  return s;
}

class StateHarness {
public:
  StateHarness(int32_t maxSeqs, int32_t checkpoints)
      : desc(stateDesc(maxSeqs, checkpoints)) {
    EXPECT_OK(attnrt_state_cache_create(&desc, &cache));
  }
  ~StateHarness() { attnrt_state_cache_destroy(cache); }
  StateHarness(const StateHarness &) = delete;
  StateHarness &operator=(const StateHarness &) = delete;

  int32_t create() {
    int32_t seq = -1;
    EXPECT_OK(attnrt_state_seq_create(cache, &seq));
    return seq;
  }
  State read(int32_t seq) const {
    State s = zeroState();
    for (int32_t i = 0; i < 2; ++i)
      EXPECT_OK(attnrt_state_read(cache, seq, i, s[size_t(i)].data()));
    return s;
  }
  int32_t length(int32_t seq) const {
    int32_t n = -1;
    EXPECT_OK(attnrt_state_length(cache, seq, &n));
    return n;
  }
  attnrt_cache_memory memory() const {
    attnrt_cache_memory m = {};
    EXPECT_OK(attnrt_state_memory(cache, &m));
    return m;
  }
  /// begin, check that `in` holds the current state, write `next` to `out`.
  attnrt_status begin(int32_t seq, int32_t tokens, const State &next) {
    float *in[2] = {nullptr, nullptr}, *out[2] = {nullptr, nullptr};
    State current = read(seq);
    attnrt_status s = attnrt_state_step_begin(cache, seq, tokens, in, out);
    if (s != ATTNRT_OK)
      return s;
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(in[i]) % 64, 0u);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(out[i]) % 64, 0u);
      EXPECT_NE(in[i], out[i]);
      EXPECT_EQ(std::vector<float>(in[i], in[i] + kSizes[i]), current[i]);
      std::memcpy(out[i], next[i].data(), next[i].size() * 4);
    }
    return s;
  }
  /// A committed step of `tokens` to `next`.
  void step(int32_t seq, int32_t tokens, const State &next) {
    ASSERT_OK(begin(seq, tokens, next));
    ASSERT_OK(attnrt_state_step_commit(cache, seq));
  }

  attnrt_state_cache_desc desc;
  attnrt_state_cache *cache = nullptr;
};

/// Every observable of the live sequences `seqs` and the memory figures.
std::vector<State> snapshot(const StateHarness &h,
                            const std::vector<int32_t> &seqs,
                            attnrt_cache_memory &memory,
                            std::vector<int32_t> &lengths) {
  std::vector<State> states;
  lengths.clear();
  for (int32_t s : seqs) {
    states.push_back(h.read(s));
    lengths.push_back(h.length(s));
  }
  memory = h.memory();
  return states;
}

template <typename Call>
void expectRefused(const StateHarness &h, const std::vector<int32_t> &seqs,
                   attnrt_status status, const char *fragment, Call &&call) {
  attnrt_cache_memory m0, m1;
  std::vector<int32_t> l0, l1;
  std::vector<State> before = snapshot(h, seqs, m0, l0);
  EXPECT_EQ(call(), status);
  EXPECT_NE(std::string(attnrt_last_error()).find(fragment), std::string::npos)
      << attnrt_last_error();
  std::vector<State> after = snapshot(h, seqs, m1, l1);
  EXPECT_TRUE(before == after && l0 == l1 && m0.used_bytes == m1.used_bytes &&
              m0.reserved_bytes == m1.reserved_bytes)
      << "the failed call changed the cache";
}

// A new sequence is zero at length 0; begin hands out the current state and
// a separate out buffer, commit makes it current, abort forgets it.
TEST(StateCache, StepBeginCommitAbort) {
  std::mt19937 rng(71);
  StateHarness h(2, 1);
  int32_t a = h.create();
  EXPECT_EQ(h.read(a), zeroState());
  EXPECT_EQ(h.length(a), 0);
  State s1 = randomState(rng), s2 = randomState(rng);
  h.step(a, 3, s1);
  EXPECT_EQ(h.read(a), s1);
  EXPECT_EQ(h.length(a), 3);
  ASSERT_OK(h.begin(a, 2, s2));
  EXPECT_EQ(h.read(a), s1) << "an open step does not change the state";
  EXPECT_EQ(h.memory().used_bytes, 3 * kStateBytes); // current + 1 + out
  // A second begin is refused and leaves the open step alone.
  float *in[2], *out[2];
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT,
                "sequence 0 has an open step of 2 tokens", [&] {
                  return attnrt_state_step_begin(h.cache, a, 1, in, out);
                });
  ASSERT_OK(attnrt_state_step_abort(h.cache, a));
  EXPECT_EQ(h.read(a), s1);
  EXPECT_EQ(h.length(a), 3);
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "has no open step",
                [&] { return attnrt_state_step_commit(h.cache, a); });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT,
                "attnrt_state_step_abort: sequence 0 has no open step",
                [&] { return attnrt_state_step_abort(h.cache, a); });
  h.step(a, 2, s2);
  EXPECT_EQ(h.read(a), s2);
  EXPECT_EQ(h.length(a), 5);
  EXPECT_EQ(h.memory().used_bytes, 2 * kStateBytes);
}

// With checkpoints = 2, after commits to lengths 3, 5, 9 and 10 the states
// at 9 and 5 are kept: truncate returns to them, newest first, and refuses
// 3, 0 and lengths never reached.
TEST(StateCache, CheckpointRing) {
  std::mt19937 rng(72);
  StateHarness h(2, 2);
  int32_t a = h.create();
  std::map<int32_t, State> at;
  int32_t length = 0;
  for (int32_t tokens : {3, 2, 4, 1}) {
    State s = randomState(rng);
    h.step(a, tokens, s);
    length += tokens;
    at[length] = s;
  }
  EXPECT_EQ(h.memory().used_bytes, 3 * kStateBytes);
  for (int32_t refused : {3, 0, 7, 11, -1})
    expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "checkpoints at 5..9 tokens",
                  [&] { return attnrt_state_truncate(h.cache, a, refused); });
  ASSERT_OK(attnrt_state_truncate(h.cache, a, 10)); // the current length
  ASSERT_OK(attnrt_state_truncate(h.cache, a, 9));
  EXPECT_EQ(h.read(a), at[9]);
  EXPECT_EQ(h.length(a), 9);
  ASSERT_OK(attnrt_state_truncate(h.cache, a, 5));
  EXPECT_EQ(h.read(a), at[5]);
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "and no checkpoints",
                [&] { return attnrt_state_truncate(h.cache, a, 3); });
  // Stepping again from 5 checkpoints 5.
  State s6 = randomState(rng);
  h.step(a, 1, s6);
  ASSERT_OK(attnrt_state_truncate(h.cache, a, 5));
  EXPECT_EQ(h.read(a), at[5]);
  // Without checkpoints only the current length is allowed.
  StateHarness none(1, 0);
  int32_t b = none.create();
  none.step(b, 4, s6);
  ASSERT_OK(attnrt_state_truncate(none.cache, b, 4));
  expectRefused(none, {b}, ATTNRT_INVALID_ARGUMENT, "no checkpoints",
                [&] { return attnrt_state_truncate(none.cache, b, 0); });
  EXPECT_EQ(none.memory().used_bytes, kStateBytes);
}

// A fork copies the current state and the checkpoints; the two then step
// and roll back independently.
TEST(StateCache, ForkCopies) {
  std::mt19937 rng(73);
  StateHarness h(3, 2);
  int32_t parent = h.create(), child = -1;
  State s1 = randomState(rng), s2 = randomState(rng), s3 = randomState(rng);
  h.step(parent, 4, s1);
  h.step(parent, 1, s2);
  // An open step of the parent stays the parent's.
  ASSERT_OK(h.begin(parent, 2, s3));
  ASSERT_OK(attnrt_state_fork(h.cache, parent, &child));
  EXPECT_EQ(h.read(child), s2);
  EXPECT_EQ(h.length(child), 5);
  expectRefused(h, {parent, child}, ATTNRT_INVALID_ARGUMENT, "no open step",
                [&] { return attnrt_state_step_commit(h.cache, child); });
  ASSERT_OK(attnrt_state_step_commit(h.cache, parent));
  h.step(child, 3, s1);
  EXPECT_EQ(h.read(parent), s3);
  EXPECT_EQ(h.length(parent), 7);
  EXPECT_EQ(h.read(child), s1);
  EXPECT_EQ(h.length(child), 8);
  ASSERT_OK(attnrt_state_truncate(h.cache, child, 4)); // inherited checkpoint
  EXPECT_EQ(h.read(child), s1);
  EXPECT_EQ(h.read(parent), s3);
  ASSERT_OK(attnrt_state_truncate(h.cache, parent, 5));
  EXPECT_EQ(h.read(parent), s2);
}

// Reset zeroes the state and forgets length and checkpoints; it and
// truncate are refused while a step is open. Release and create give a zero
// state again.
TEST(StateCache, ResetAndRelease) {
  std::mt19937 rng(74);
  StateHarness h(1, 3);
  int32_t a = h.create();
  h.step(a, 2, randomState(rng));
  h.step(a, 2, randomState(rng));
  ASSERT_OK(h.begin(a, 1, randomState(rng)));
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "attnrt_state_reset",
                [&] { return attnrt_state_reset(h.cache, a); });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "commit or abort it first",
                [&] { return attnrt_state_truncate(h.cache, a, 2); });
  ASSERT_OK(attnrt_state_step_abort(h.cache, a));
  ASSERT_OK(attnrt_state_reset(h.cache, a));
  EXPECT_EQ(h.read(a), zeroState());
  EXPECT_EQ(h.length(a), 0);
  EXPECT_EQ(h.memory().used_bytes, kStateBytes);
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "no checkpoints",
                [&] { return attnrt_state_truncate(h.cache, a, 2); });
  h.step(a, 2, randomState(rng));
  ASSERT_OK(h.begin(a, 1, randomState(rng)));
  ASSERT_OK(attnrt_state_seq_release(h.cache, a)); // drops the open step
  EXPECT_EQ(h.memory().used_bytes, 0u);
  int32_t b = h.create();
  EXPECT_EQ(h.read(b), zeroState());
  EXPECT_EQ(h.length(b), 0);
  ASSERT_OK(attnrt_state_seq_release(h.cache, b));
  expectRefused(h, {}, ATTNRT_NOT_FOUND, "sequence 0 is not live",
                [&] { return attnrt_state_seq_release(h.cache, b); });
}

TEST(StateCache, RefusedCallsAndDescriptors) {
  StateHarness h(1, 1);
  int32_t a = h.create(), other = -1;
  float *in[2], *out[2];
  std::vector<float> dst(60);
  expectRefused(
      h, {a}, ATTNRT_INVALID_ARGUMENT, "tokens must be positive",
      [&] { return attnrt_state_step_begin(h.cache, a, 0, in, out); });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "NULL out", [&] {
    return attnrt_state_step_begin(h.cache, a, 1, in, nullptr);
  });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT,
                "tensor index 2 is outside [0, 2)",
                [&] { return attnrt_state_read(h.cache, a, 2, dst.data()); });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "NULL dst",
                [&] { return attnrt_state_read(h.cache, a, 0, nullptr); });
  expectRefused(h, {a}, ATTNRT_CACHE_FULL, "all 1 sequence slots",
                [&] { return attnrt_state_fork(h.cache, a, &other); });
  expectRefused(h, {a}, ATTNRT_INVALID_ARGUMENT, "sequence 5 is outside",
                [&] { return attnrt_state_step_commit(h.cache, 5); });

  struct Case {
    void (*edit)(attnrt_state_cache_desc &);
    const char *fragment;
  };
  const Case cases[] = {
      {[](attnrt_state_cache_desc &d) { d.num_tensors = 0; },
       "num_tensors must be in [1, 8], got 0"},
      {[](attnrt_state_cache_desc &d) { d.num_tensors = 9; }, "got 9"},
      {[](attnrt_state_cache_desc &d) { d.tensor_elements[1] = 0; },
       "tensor_elements[1] must be positive, got 0"},
      {[](attnrt_state_cache_desc &d) { d.checkpoints = -1; },
       "checkpoints must be >= 0, got -1"},
      {[](attnrt_state_cache_desc &d) { d.max_seqs = 0; }, "max_seqs"},
      {[](attnrt_state_cache_desc &d) { d.tensor_elements[0] = INT64_MAX; },
       "overflows size_t"},
      {[](attnrt_state_cache_desc &d) {
         d.tensor_elements[0] = int64_t(1) << 40;
         d.checkpoints = INT32_MAX;
       },
       "overflows size_t"},
  };
  for (const Case &c : cases) {
    attnrt_state_cache_desc d = stateDesc(2, 1);
    c.edit(d);
    attnrt_state_cache *cache = nullptr;
    EXPECT_EQ(attnrt_state_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
    EXPECT_EQ(cache, nullptr);
    EXPECT_NE(std::string(attnrt_last_error()).find(c.fragment),
              std::string::npos)
        << attnrt_last_error();
  }
}

// 1500 random calls (create, begin, commit, abort, truncate, fork, reset,
// release; some expected to fail) against a model that keeps each
// sequence's current state and the states before its last `checkpoints`
// commits.
TEST(StateCache, RandomisedOperationsAgainstModel) {
  std::mt19937 rng(75);
  const int32_t maxSeqs = 4, checkpoints = 3;
  StateHarness h(maxSeqs, checkpoints);
  struct Model {
    std::deque<std::pair<int32_t, State>> committed; // oldest first
    bool open = false;
    int32_t openTokens = 0;
    State openState;
  };
  std::map<int32_t, Model> live;
  std::map<std::string, int> outcomes;
  for (int op = 0; op < 1500; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    int kind = int(rng() % 8);
    if (live.empty() || kind == 0) {
      int32_t seq = -1;
      attnrt_status s = attnrt_state_seq_create(h.cache, &seq);
      ASSERT_EQ(s, int32_t(live.size()) < maxSeqs ? ATTNRT_OK
                                                  : ATTNRT_CACHE_FULL);
      if (s == ATTNRT_OK)
        live[seq].committed.push_back({0, zeroState()});
      continue;
    }
    auto it = live.begin();
    std::advance(it, rng() % live.size());
    int32_t seq = it->first;
    Model &m = it->second;
    std::vector<int32_t> seqs;
    for (const auto &entry : live)
      seqs.push_back(entry.first);
    if (kind <= 2) { // begin
      int32_t tokens = int32_t(1 + rng() % 4);
      State next = randomState(rng);
      if (m.open) {
        float *in[2], *out[2];
        expectRefused(h, seqs, ATTNRT_INVALID_ARGUMENT, "open step", [&] {
          return attnrt_state_step_begin(h.cache, seq, tokens, in, out);
        });
        ++outcomes["begin refused"];
      } else {
        ASSERT_OK(h.begin(seq, tokens, next));
        m.open = true;
        m.openTokens = tokens;
        m.openState = next;
        ++outcomes["begin"];
      }
    } else if (kind == 3) { // commit or abort
      bool commit = rng() % 3 != 0;
      if (!m.open) {
        expectRefused(h, seqs, ATTNRT_INVALID_ARGUMENT, "no open step", [&] {
          return commit ? attnrt_state_step_commit(h.cache, seq)
                        : attnrt_state_step_abort(h.cache, seq);
        });
        ++outcomes["finish refused"];
      } else if (commit) {
        ASSERT_OK(attnrt_state_step_commit(h.cache, seq));
        m.committed.push_back(
            {m.committed.back().first + m.openTokens, m.openState});
        if (int32_t(m.committed.size()) > checkpoints + 1)
          m.committed.pop_front();
        m.open = false;
        ++outcomes["commit"];
      } else {
        ASSERT_OK(attnrt_state_step_abort(h.cache, seq));
        m.open = false;
        ++outcomes["abort"];
      }
    } else if (kind == 4) { // truncate
      int32_t length = m.committed.back().first;
      int32_t target = int32_t(rng() % uint32_t(length + 2)) - 1;
      auto keep =
          std::find_if(m.committed.begin(), m.committed.end(),
                       [&](const auto &c) { return c.first == target; });
      if (!m.open && keep != m.committed.end()) {
        ASSERT_OK(attnrt_state_truncate(h.cache, seq, target));
        m.committed.erase(keep + 1, m.committed.end());
        ++outcomes["truncate"];
      } else {
        expectRefused(
            h, seqs, ATTNRT_INVALID_ARGUMENT, "attnrt_state_truncate",
            [&] { return attnrt_state_truncate(h.cache, seq, target); });
        ++outcomes["truncate refused"];
      }
    } else if (kind == 5) { // fork
      int32_t child = -1;
      if (int32_t(live.size()) < maxSeqs) {
        ASSERT_OK(attnrt_state_fork(h.cache, seq, &child));
        Model copy = m;
        copy.open = false;
        live[child] = copy;
        ++outcomes["fork"];
      } else {
        expectRefused(h, seqs, ATTNRT_CACHE_FULL, "attnrt_state_fork",
                      [&] { return attnrt_state_fork(h.cache, seq, &child); });
        ++outcomes["fork refused"];
      }
    } else if (kind == 6) { // reset
      if (m.open) {
        expectRefused(h, seqs, ATTNRT_INVALID_ARGUMENT, "open step",
                      [&] { return attnrt_state_reset(h.cache, seq); });
        ++outcomes["reset refused"];
      } else {
        ASSERT_OK(attnrt_state_reset(h.cache, seq));
        m.committed = {{0, zeroState()}};
        ++outcomes["reset"];
      }
    } else {
      ASSERT_OK(attnrt_state_seq_release(h.cache, seq));
      live.erase(seq);
      ++outcomes["release"];
    }
    size_t states = 0;
    for (const auto &[s, model] : live) {
      ASSERT_EQ(h.length(s), model.committed.back().first) << "sequence " << s;
      ASSERT_EQ(h.read(s), model.committed.back().second) << "sequence " << s;
      states += model.committed.size() + (model.open ? 1 : 0);
    }
    ASSERT_EQ(h.memory().used_bytes, states * kStateBytes);
  }
  for (const char *path : {"begin", "begin refused", "finish refused", "commit",
                           "abort", "truncate", "truncate refused", "fork",
                           "fork refused", "reset", "reset refused", "release"})
    EXPECT_GT(outcomes[path], 0) << path;
}

} // namespace
