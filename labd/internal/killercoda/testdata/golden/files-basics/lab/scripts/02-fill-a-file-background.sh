#!/bin/bash
echo seed > /tmp/step2-seed
