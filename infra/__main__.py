from georesil.provision.stack import StackConfig, build_stack, load_configured_topology

build_stack(load_configured_topology(), StackConfig.from_pulumi())
