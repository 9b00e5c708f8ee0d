#!/bin/sh
# L0 suite fragment: the "events" multicast group, watched by
# `nestorctl events` while nested_l2 runs its two L2s and exits.  Each L2
# context must be announced once when it appears and once when it goes (its
# L1 VM is destroyed), and the VM's end once, all with matching ids.
N=${NESTOR_DIR:-/nestor}
EV=/tmp/events.out
failed=0

tap() { # status name
	if [ "$1" = 0 ]; then echo "ok - events: $2"; else echo "not ok - events: $2"; failed=1; fi
}

"$N/bin/nestorctl" events --timeout 120000 >"$EV" 2>/tmp/events.err &
listener=$!
i=0
until grep -q listening /tmp/events.err 2>/dev/null || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -q listening /tmp/events.err
tap $? "listener subscribed"

"$N/bin/nested_l2" >/tmp/events-nested.tap 2>&1
tap $? "nested_l2 ran (default mode)"
sleep 1
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
sed 's/^/#   /' "$EV"

new=$(grep -c '^L2_NEW ' "$EV")
gone=$(grep -c '^L2_GONE ' "$EV")
vmgone=$(grep -c '^VM_GONE ' "$EV")
[ "$new" = 2 ]; tap $? "two L2_NEW events (got $new)"
[ "$gone" = 2 ]; tap $? "two L2_GONE events when the VM went (got $gone)"
[ "$vmgone" = 1 ]; tap $? "one VM_GONE event (got $vmgone)"

vm=$(sed -n 's/^VM_GONE vm \([0-9]*\).*/\1/p' "$EV")
[ -n "$vm" ] && [ "$(grep -c "^L2_NEW vm $vm " "$EV")" = 2 ]
tap $? "the L2_NEW events name the VM that went (vm $vm)"
ids_new=$(sed -n 's/^L2_NEW vm [0-9]* l2 \([0-9]*\).*/\1/p' "$EV" | sort | tr '\n' ' ')
ids_gone=$(sed -n 's/^L2_GONE vm [0-9]* l2 \([0-9]*\).*/\1/p' "$EV" | sort | tr '\n' ' ')
[ -n "$ids_new" ] && [ "$ids_new" = "$ids_gone" ]
tap $? "the same L2 ids appeared and went ($ids_new/ $ids_gone)"
roots=$(sed -n 's/^L2_NEW .* root \(0x[0-9a-f]*\).*/\1/p' "$EV" | sort -u | grep -vc '^0x0$')
[ "$roots" = 2 ]
tap $? "the two L2s were announced with two distinct nonzero roots"
[ -z "$(grep -v '^\(L2_NEW\|L2_GONE\|VM_GONE\) ' "$EV")" ]
tap $? "no other events"
exit $failed
