WRONG_ANSWERS = {
    "q1": ("return (F.softplus(logits) - x * logits).sum(dim=1).mean()",
           "return (F.softplus(logits) - x * logits).mean()",
           "did you sum over the 784 pixels"),
    "q2": ("return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)",
           "return x.repeat(1, 1, 2, 2)",
           "did you tile the whole image"),
    "q3": ("return torch.sigmoid(logits).cpu()", "return logits.cpu()",
           "did you apply torch.sigmoid"),
}
