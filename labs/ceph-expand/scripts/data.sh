#!/bin/sh
# Business data, so that a failure or an expansion has something to move.
exec ceph-lab data 24
