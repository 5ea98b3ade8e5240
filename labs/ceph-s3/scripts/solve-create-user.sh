#!/bin/sh
radosgw-admin user create --uid=trainee --display-name="Trainee" >/dev/null
