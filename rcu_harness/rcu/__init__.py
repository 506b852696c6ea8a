"""The RCU model: read-side sections, the rcu_gp kthread, callbacks."""
