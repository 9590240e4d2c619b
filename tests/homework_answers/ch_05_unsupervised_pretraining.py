WRONG_ANSWERS = {
    "q1": ("return torch.cat(picked)",
           "return torch.randperm(len(labels), generator=generator)[:10 * k]",
           "exactly k of each class"),
    "q2": ("parameter.requires_grad_(False)", "parameter.detach()", "requires_grad"),
    "q3": ("enumerate(pretrained_stack, start=1)",
           "enumerate(nn.Sequential(*mlp_layers()).to(device), start=1)",
           "use the pretrained layers"),
}
