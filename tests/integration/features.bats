#!/usr/bin/env bats
# features: what the runtime supports, as runtime-spec features JSON.
load helpers

teardown() { teardown_bundle; }

setup() {
	run "$RUNTIME" features
	[ "$status" -eq 0 ]
	FEATURES=$output
}

@test "features: valid JSON, with the OCI version range" {
	jq -e . <<<"$FEATURES" >/dev/null
	[ "$(jq -r .ociVersionMin <<<"$FEATURES")" = 1.0.0 ]
	max=$(jq -r .ociVersionMax <<<"$FEATURES")
	[[ "$max" == 1.* ]]
	# the version --version prints as spec:
	"$RUNTIME" --version | grep -qx "spec: $max"
}

@test "features: the namespaces runc 1.1 supports" {
	for ns in cgroup ipc mount network pid user uts; do
		jq -e --arg ns "$ns" '.linux.namespaces | index($ns)' <<<"$FEATURES" >/dev/null
	done
}

@test "features: all 8 namespace types, time included" {
	requires sandbox # runc 1.1.5 has no time namespace
	[ "$(jq -c .linux.namespaces <<<"$FEATURES")" = '["cgroup","ipc","mount","network","pid","time","user","uts"]' ]
}

@test "features: the 6 hooks of the runtime spec" {
	[ "$(jq -c .hooks <<<"$FEATURES")" = '["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' ]
}

@test "features: mount options and capabilities are lists of names" {
	for o in ro rw nosuid nodev noexec bind rbind rprivate rslave; do
		jq -e --arg o "$o" '.mountOptions | index($o)' <<<"$FEATURES" >/dev/null
	done
	jq -e '.linux.capabilities | index("CAP_SYS_ADMIN") and index("CAP_NET_BIND_SERVICE")' <<<"$FEATURES" >/dev/null
	[ "$(jq '[.linux.capabilities[] | select(startswith("CAP_") | not)] | length' <<<"$FEATURES")" = 0 ]
}

@test "features: the features version annotation is the spec version" {
	requires sandbox # runc 1.1.5 predates the annotation
	[ "$(jq -r '.annotations["org.opencontainers.runtime-spec.features.version"]' <<<"$FEATURES")" = "$(jq -r .ociVersionMax <<<"$FEATURES")" ]
}

@test "features: seccomp and idmapped mounts are refused by create exactly when not claimed" {
	requires root
	setup_bundle
	seccomp=$(jq .linux.seccomp.enabled <<<"$FEATURES")
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW"}'
	sr_run create --bundle "$BUNDLE" t1
	if [ "$seccomp" = true ]; then
		[ "$status" -eq 0 ]
		sr delete --force t1
	else
		[ "$status" -eq 1 ]
		[[ "$output" == *linux.seccomp* ]]
	fi
	idmap=$(jq .linux.mountExtensions.idmap.enabled <<<"$FEATURES")
	# runc 1.1.5 does not say (null), and does not check the option
	[ "$idmap" != null ] || return 0
	update_config 'del(.linux.seccomp)
		| .mounts += [{"destination": "/mnt", "type": "bind", "source": "/tmp",
			"options": ["rbind", "idmap"], "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
			"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}]'
	sr_run create --bundle "$BUNDLE" t2
	if [ "$idmap" = true ]; then
		[ "$status" -eq 0 ]
	else
		[ "$status" -eq 1 ]
		[[ "$output" == *idmap* ]]
	fi
}

@test "features: takes no arguments" {
	run "$RUNTIME" features extra
	[ "$status" -eq 1 ]
	[[ "$output" == *'features\" requires exactly 0 argument(s)'* ]]
}

@test "features: AppArmor and SELinux are compiled in, whatever this host has (the spec's meaning, runc's answer)" {
	[ "$(jq -c '[.linux.apparmor.enabled, .linux.selinux.enabled]' <<<"$FEATURES")" = '[true,true]' ]
}

@test "features: the annotations that reach beyond the spec's fields are potentially unsafe (systemd unit properties, CRIU's config), as runc lists them" {
	jq -e '.potentiallyUnsafeConfigAnnotations | index("org.systemd.property.") and index("org.criu.config")' <<<"$FEATURES"
}

@test "features: runtime-spec 1.3's fields are claimed (issue 14), and create takes them" {
	requires sandbox root
	setup_bundle
	[ "$(jq -c '[.linux.netDevices.enabled, .linux.mountExtensions.idmap.enabled, .linux.intelRdt.enabled, .linux.intelRdt.schemata, .linux.intelRdt.monitoring]' <<<"$FEATURES")" = '[true,true,true,true,true]' ]
	[ "$(jq -c .linux.memoryPolicy.modes <<<"$FEATURES")" = '["MPOL_BIND","MPOL_DEFAULT","MPOL_INTERLEAVE","MPOL_LOCAL","MPOL_PREFERRED","MPOL_PREFERRED_MANY","MPOL_WEIGHTED_INTERLEAVE"]' ]
	[ "$(jq -c .linux.memoryPolicy.flags <<<"$FEATURES")" = '["MPOL_F_NUMA_BALANCING","MPOL_F_RELATIVE_NODES","MPOL_F_STATIC_NODES"]' ]
	jq -e '.mountOptions | index("idmap") and index("ridmap")' <<<"$FEATURES" >/dev/null
	# SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19) is claimed
	# where the kernel has it, and create takes it there
	if jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")' <<<"$FEATURES" >/dev/null; then
		update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$BUNDLE/none.sock"'",
			"flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
			"syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
		sr_run create --bundle "$BUNDLE" k1
		# accepted as a flag; the listener is what is missing
		[ "$status" -eq 1 ]
		[[ "$output" == *linux.seccomp.listenerPath* ]]
		[[ "$output" != *linux.seccomp.flags* ]]
	fi
	# the scheduler and a memory policy of the claimed modes
	update_config 'del(.linux.seccomp) | .process.scheduler = {"policy": "SCHED_BATCH"}
		| .linux.memoryPolicy = {"mode": "MPOL_PREFERRED", "nodes": "0"}'
	sr_run create --bundle "$BUNDLE" k2
	[ "$status" -eq 0 ]
}
