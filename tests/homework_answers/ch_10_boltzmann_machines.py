WRONG_ANSWERS = {
    "q1": ("return -(v @ b) - F.softplus(v @ W + c).sum(1)",
           "return -F.softplus(v @ W + c).sum(1)",
           "visible bias"),
    "q2": ("terms = h @ rbm.c + F.softplus(h @ rbm.W.T + rbm.b).sum(1)",
           "terms = F.softplus(h @ rbm.W.T + rbm.b).sum(1)",
           "hidden bias"),
    "q3": ("h = rbm.p_h_given_v(h)",
           "h = torch.bernoulli(rbm.p_h_given_v(h))",
           "not binary samples"),
}
