"""The deploy toolchain: Docker engine, OpenTofu and providers, cdktf CLI, images."""
