WRONG_ANSWERS = {
    "q1": ("return np.bitwise_count(differ).sum(axis=-1)",
           "return (differ != 0).sum(axis=-1)",
           "not the bytes that differ"),
    "q2": ("return sum(math.comb(d, j) for j in range(n + 1))",
           "return sum(math.comb(d, j) for j in range(n))",
           "did range(...) stop one early"),
    "q3": ("return -(w * r * c).sum(dim=1) / (w * r * r).sum(dim=1)",
           "return (w * r * c).sum(dim=1) / (w * r * r).sum(dim=1)",
           "keep the minus sign"),
}
