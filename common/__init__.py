"""Code shared by components: the layer between the core (collector/) and the components."""
