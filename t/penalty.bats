#!/usr/bin/env bats
# source_penalty: a netblock whose connections keep stalling gets its
# SYNs dropped by the kernel for a while (master/penalty.c,
# worker/penalty.c).  Each test stalls connections from one loopback
# address with t/flood.py, then connects from it (the connect must time
# out: no SYN-ACK, no reset, no accept) and from another address (served
# at once).  Outcomes and counters, no timing: the one wait is for the
# penalty's end, bounded.

load lib
load lib_faults

setup() {
	snitch_setup
	WORKERS=1
	PEEK_TIMEOUT=30s
	start_demo alpha
}

start_penalized() {
	write_config "defer_accept = off" "$@"
	stats_on
	add_backend alpha alpha.localhost
	start_snitch
	wait_until has_workers 1
}


# served_from ADDRESS [HOST] - a real client from ADDRESS is routed
served_from() {
	run curl -sSk -m 10 --interface "$1" \
	    --resolve "alpha.localhost:$PORT:[${2:-127.0.0.1}]" \
	    "https://alpha.localhost:$PORT/"
	assert_success
	assert_line "backend=alpha"
}

# shut_out ADDRESS [HOST] - a connect from ADDRESS times out: its SYN
# was dropped (curl's 28; a reset or a refusal would be 7)
shut_out() {
	run curl -sSk --connect-timeout 2 -m 4 --interface "$1" \
	    --resolve "alpha.localhost:$PORT:[${2:-127.0.0.1}]" \
	    "https://alpha.localhost:$PORT/"
	assert_failure 28
}

@test "a source whose connections keep stalling is shut out in the kernel, others are served, and it is let back after source_penalty" {
	start_penalized "max_pending_per_source = 2" \
	    "source_penalty_stalls = 5" "source_penalty = 10s" \
	    "${NO_PRESSURE[@]}"
	# 7 half-hellos from one address: 5 evicted for the per-source
	# limit, and the fifth stall reports it (the flood is done by then:
	# its next connect would time out)
	flood half 7 127.0.3.1
	wait_until counter_is evicted 5
	wait_until counter_is source_penalties 1
	wait_until log_has "penalized 1 more netblocks for 10 s, the last 127.0.3.1/32"
	local accepted
	accepted=$(counter accepted)
	shut_out 127.0.3.1
	# the worker never saw that connect
	assert_equal "$(counter accepted)" "$accepted"
	served_from 127.0.0.1
	served_from 127.0.3.2
	# penalties end: the filter comes off, and the source is served
	wait_for 25 log_has "penalties over: no netblock penalized"
	served_from 127.0.3.1
	stats_add_up "$(snitch_stats)"
	refute log_has "SO_ATTACH_FILTER|SO_DETACH_FILTER|not a penalty|penalty that is not"
}

@test "source_penalty = off: the same stalls shut nobody out" {
	start_penalized "max_pending_per_source = 2" \
	    "source_penalty_stalls = 5" "source_penalty = off" \
	    "${NO_PRESSURE[@]}"
	flood half 20 127.0.3.1
	wait_until counter_at_least evicted 18
	served_from 127.0.3.1
	assert_equal "$(counter source_penalties)" 0
	refute log_has "penalized"
}

@test "a timeout without pressure is no stall: slow sources are not penalized" {
	PEEK_TIMEOUT=1s
	start_penalized "source_penalty_stalls = 3" "${NO_PRESSURE[@]}"
	flood half 6 127.0.3.1
	wait_for 15 counter_at_least timeout 6
	served_from 127.0.3.1
	assert_equal "$(counter source_penalties)" 0
}

@test "timeouts under pressure are stalls: the source is shut out" {
	start_penalized "max_pending = 10" "pressure_threshold = 10" \
	    "pressure_peek_timeout = 1s" "source_penalty_stalls = 3" \
	    "source_penalty = 20s"
	flood half 6 127.0.3.1
	wait_for 15 counter_at_least timeout 3
	wait_until counter_at_least source_penalties 1
	wait_until log_has "penalized 1 more netblocks for 20 s, the last 127.0.3.1/32"
	shut_out 127.0.3.1
	served_from 127.0.0.1
}

@test "IPv6: a /64 is shut out, IPv4 clients are not" {
	have_ipv6_lo || skip "no ::1"
	PORT=$(free_port v6)
	LISTEN="127.0.0.1:$PORT [::1]:$PORT"
	start_penalized "max_pending_per_source = 2" \
	    "source_penalty_stalls = 5" "source_penalty = 20s" \
	    "${NO_PRESSURE[@]}"
	flood half 7 ::1 --host ::1
	wait_until counter_at_least source_penalties 1
	wait_until log_has "the last ::/64"
	shut_out ::1 ::1
	served_from 127.0.0.1
}

@test "a PROXY listener never gets the filter: a penalized address still connects to it" {
	local other accepted
	other=$(free_port)
	start_penalized "listen = 127.0.0.1:$other" \
	    "proxy_protocol = 127.0.0.1:$other" "proxy_from = 127.0.0.0/8" \
	    "max_pending_per_source = 2" "source_penalty_stalls = 5" \
	    "source_penalty = 20s" "${NO_PRESSURE[@]}"
	flood half 7 127.0.3.1
	wait_until counter_at_least source_penalties 1
	wait_until log_has "the last 127.0.3.1/32"
	shut_out 127.0.3.1
	# the PROXY port takes its SYN: the connect is made, and what curl
	# sends there is no PROXY header (not 28, a timeout)
	accepted=$(counter accepted)
	run curl -sSk --connect-timeout 2 -m 4 --interface 127.0.3.1 \
	    --resolve "alpha.localhost:$other:127.0.0.1" \
	    "https://alpha.localhost:$other/"
	[ "$status" -ne 28 ] && [ "$status" -ne 0 ]
	wait_until counter_at_least accepted $((accepted + 1))
}
