#!/usr/bin/env bats
# backend_restart.bats - a backend that goes away costs only its own
# clients (alert 80), and is used again as soon as it is back on the
# same socket path, without touching snitch.

load lib

setup() {
	snitch_setup
	start_demo alpha
	start_demo beta
	write_config
	add_backend alpha alpha.localhost
	add_backend beta beta.localhost
	start_snitch
}

# alpha_routes - a client for alpha gets alpha's answer
alpha_routes() {
	tls --name alpha.localhost 2>/dev/null | grep -qx 'backend=alpha'
}

@test "a stopped backend gets alert 80 while the others keep routing" {
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	stop_demo alpha
	run -3 tls --name alpha.localhost
	assert_output "alert 80"
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
	run -3 tls --name alpha.localhost
	assert_output "alert 80"
	run -0 get_https beta.localhost
	assert_line "backend=beta"
}

@test "a restarted backend is used again within a few seconds" {
	run -0 tls --name alpha.localhost
	assert_line "backend=alpha"
	stop_demo alpha
	run -3 tls --name alpha.localhost
	assert_output "alert 80"
	start_demo alpha
	wait_until alpha_routes
	for _ in 1 2 3 4 5 6; do
		run -0 get_https alpha.localhost
		assert_line "backend=alpha"
	done
	run -0 tls --name beta.localhost
	assert_line "backend=beta"
}
