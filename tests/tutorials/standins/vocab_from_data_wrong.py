# makemore part 4's softmax backward, its vocabulary counted from data (vocab_size =
# len(chars) + 1): a size the draft cannot know, so one stands in and the formulas are checked
import torch
import torch.nn.functional as F

n = 4
chars = sorted(list(set("abcd")))
vocab_size = len(chars) + 1
g = torch.Generator().manual_seed(1)
logits = torch.randn((n, vocab_size), generator=g, requires_grad=True)
Yb = torch.tensor([0, 2, 1, 4])
logit_maxes = logits.max(1, keepdim=True).values
norm_logits = logits - logit_maxes
counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum**-1
probs = counts * counts_sum_inv
logprobs = probs.log()
loss = -logprobs[range(n), Yb].mean()
for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes]:
    t.retain_grad()
loss.backward()

dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), Yb] = -1.0/n
dprobs = (1.0 / probs) * dlogprobs
dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
dcounts = counts_sum_inv * dprobs
dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv
dcounts += 0 * dcounts_sum
dnorm_logits = counts * dcounts
