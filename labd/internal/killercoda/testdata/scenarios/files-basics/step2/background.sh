echo seed > /tmp/step2-seed
