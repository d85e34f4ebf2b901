//===- ValidationTest.cpp - Argument validation of the reference ops --------===//
//
// Inconsistent shapes throw std::invalid_argument naming the argument.
// Inputs are random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

using namespace attn::reference;
using namespace attn::reference::testing;

namespace {

//===----------------------------------------------------------------------===//
// Argument validation
//===----------------------------------------------------------------------===//

TEST(Validation, ErrorsNameTheArgument) {
  Random rng(40);
  RefTensor q = rng.tensor({1, 4, 3, 8}), k = rng.tensor({1, 2, 5, 8}),
            v = rng.tensor({1, 2, 5, 6});
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, k, rng.tensor({1, 2, 4, 6}));
      },
      "'v'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, rng.tensor({1, 3, 5, 8}), v);
      },
      "'k'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, rng.tensor({1, 2, 5, 7}), v);
      },
      "'k'"));
  RefTensor broken = q;
  broken.data.pop_back();
  EXPECT_TRUE(throwsNaming([&] { attention(broken, k, v); }, "'q'"));
  BoolTensor mask({2, 4, 3, 5});
  AttentionParams mp;
  mp.boolMask = &mask;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, mp); }, "'mask'"));
  RefTensor sinks({3});
  AttentionParams sp;
  sp.sinks = &sinks;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, sp); }, "'sinks'"));
  IndexTensor num({1, 1, 1}, 1);
  AttentionParams bp;
  bp.kvNumBlocks = &num;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, bp); }, "'kv_indices'"));
  AttentionParams wp;
  wp.window = std::make_pair<int64_t, int64_t>(-1, 0);
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, wp); }, "'window'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        merge(RefTensor({2, 1, 1, 3, 4}), RefTensor({2, 1, 1, 4}));
      },
      "'lses'"));

  RefTensor lq = rng.tensor({1, 2, 5, 4}), lv = rng.tensor({1, 2, 5, 3});
  LinearAttentionParams lp;
  RefTensor badState({1, 2, 3, 4});
  lp.stateIn = &badState;
  EXPECT_TRUE(
      throwsNaming([&] { linearAttention(lq, lq, lv, lp); }, "'state_in'"));
  LinearAttentionParams gp;
  gp.decay = DecayKind::Vector;
  EXPECT_TRUE(throwsNaming([&] { linearAttention(lq, lq, lv, gp); }, "'g'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        deltaRule(lq, lq, lv, RefTensor({1, 2, 4}));
      },
      "'beta'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        logLinear(lq, lq, lv, RefTensor({1, 2, 5, 3}));
      },
      "'lambda'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        lolcatsHybrid(lq, lq, lv, lq, lq, RefTensor({3}), LolcatsParams{});
      },
      "'gamma'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        sparseAttention(q, k, v, IndexTensor({1, 3, 3, 2}));
      },
      "'indices'"));
  SelectionParams zero;
  zero.topk = 0;
  EXPECT_TRUE(throwsNaming([&] { topkSelect(q, k, zero); }, "'topk'"));
  SelectionParams one;
  EXPECT_TRUE(throwsNaming(
      [&] {
        adamasSelect(rng.tensor({1, 1, 2, 6}), rng.tensor({1, 1, 2, 6}), one);
      },
      "'q'"));
  QuestParams qp;
  qp.pageSize = 2;
  qp.keyLength = 9;
  EXPECT_TRUE(throwsNaming(
      [&] {
        questSelect(q, RefTensor({1, 2, 4, 8}), RefTensor({1, 2, 4, 8}), qp);
      },
      "'key_length'"));

  QuantAttentionParams quant;
  quant.groupSize = 2;
  EXPECT_TRUE(throwsNaming(
      [&] {
        quantAttention(q, CodeTensor({1, 2, 5, 8}), RefTensor({1, 2, 2, 8}),
                       CodeTensor({1, 2, 5, 6}), RefTensor({1, 2, 5, 3}),
                       quant);
      },
      "'k_scale'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        quantAttention(q, CodeTensor({1, 2, 5, 8}), RefTensor({1, 2, 3, 8}),
                       CodeTensor({1, 2, 4, 6}), RefTensor({1, 2, 4, 3}),
                       quant);
      },
      "'v_codes'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        pqEncode(rng.tensor({1, 2, 5, 8}), RefTensor({2, 3, 256, 2}));
      },
      "'codebooks'"));
  PqFitParams fp;
  fp.kc = 256;
  EXPECT_TRUE(throwsNaming(
      [&] {
        pqFit(rng.tensor({1, 100, 8}), fp);
      },
      "'keys'"));
}

} // namespace
