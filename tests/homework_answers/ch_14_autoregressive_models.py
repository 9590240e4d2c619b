WRONG_ANSWERS = {
    "q1": ("output_mask = (order[:, None] > hidden_degrees[None, :]).float()",
           "output_mask = (order[:, None] >= hidden_degrees[None, :]).float()",
           "or it could see its own input"),
    "q2": ("return -log_p / math.log(2)", "return -log_p", "those are nats"),
    # the logits of one forward pass, never recomputed from the pixels filled in
    "q3": ("    for i in range(first_row, x.shape[2]):\n"
           "        for j in range(x.shape[3]):\n"
           "            x[:, 0, i, j] = model(x)[:, :, i, j].argmax(dim=1).float()",
           "    logits = model(x)\n"
           "    for i in range(first_row, x.shape[2]):\n"
           "        for j in range(x.shape[3]):\n"
           "            x[:, 0, i, j] = logits[:, :, i, j].argmax(dim=1).float()",
           "one forward pass per pixel"),
}
