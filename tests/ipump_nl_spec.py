#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""What the kernel's policy dump of a generic netlink family must say,
computed from its YNL spec (genetlink-legacy, kernel-policy: per-op).

Runs on the build host (python3 + python3-yaml). Writes the canonical,
sorted lines that ipump_nl_policy prints from the running kernel
(CTRL_CMD_GETFAMILY and CTRL_CMD_GETPOLICY); ipump_nl_policy_test.sh diffs
the two. Lines starting with '#' are a legend (numbers -> names) that the
comparison ignores.

  family NAME version=V
  mcgrp NAME
  op CMD [admin-perm] [uns-admin-perm] [do] [dump]
  pol CMD do|dump PATH TYPE [min=N max=N | mask=0xN] [maxtype=N] [minlen=N] [maxlen=N]

CMD and PATH are numbers (the kernel's dump has no names): PATH is the
attribute number, nested attributes joined with '.', e.g. 5.2 for
PROGRAMME/ROUTE.

Mapping of the spec to the kernel's nla_policy, as YNL's kernel code
generator does it:
  u8/u16/u32/u64  NL_ATTR_TYPE_U*: the kernel always reports a range;
                  without checks it is the whole type (0..2^n-1); checks
                  min/max narrow it; checks flags-mask gives NLA_POLICY_MASK
                  (the kernel then reports the mask and no range)
  s8..s64         NL_ATTR_TYPE_S*, the same with signed ranges
  nest            NL_ATTR_TYPE_NESTED with the nested set's highest
                  attribute number as maxtype; every attribute of that set
                  (but pad and unused ones) follows as PATH.N
  string          NLA_NUL_STRING (YNL's choice), checks max-len/min-len
  binary          NLA_BINARY, checks min-len/max-len
  flag            NLA_FLAG
  pad, unused     not in a policy (NLA_UNSPEC: the dump leaves them out)
Only the attributes an operation's request lists are in its top-level
policy; attribute-set "subset-of" takes the parent's definition and the
subset's own checks.
"""
import argparse
import os
import sys

import yaml

INT_BITS = {'u8': 8, 'u16': 16, 'u32': 32, 'u64': 64,
            's8': 8, 's16': 16, 's32': 32, 's64': 64}
CHECK_KEYS = {'min', 'max', 'flags-mask', 'min-len', 'max-len'}


class SpecError(Exception):
    pass


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.consts = {}
        self.flags = {}
        for d in doc.get('definitions', []):
            if d['type'] == 'const':
                self.consts[d['name']] = d['value']
            elif d['type'] == 'flags':
                self.flags[d['name']] = self.flags_mask(d)
        self.sets = {s['name']: s for s in doc['attribute-sets']}
        self.values = {}  # set name -> {attr name: value}
        for s in doc['attribute-sets']:
            if 'subset-of' not in s:
                self.values[s['name']] = self.number(s['attributes'], 1)
        for s in doc['attribute-sets']:
            if 'subset-of' in s:
                self.values[s['name']] = self.values[s['subset-of']]

    @staticmethod
    def number(items, start):
        """Values of a list of named items: explicit, else previous + 1."""
        out, nxt = {}, start
        for it in items:
            v = it.get('value', nxt)
            out[it['name']] = v
            nxt = v + 1
        return out

    @staticmethod
    def flags_mask(d):
        mask, bit = 0, d.get('value-start', 0)
        for e in d['entries']:
            if isinstance(e, dict):
                bit = e.get('value', bit)
            mask |= 1 << bit
            bit += 1
        return mask

    def value_of(self, v):
        if isinstance(v, int):
            return v
        if isinstance(v, str) and v in self.consts:
            return self.consts[v]
        raise SpecError('check value %r: not a number or a const' % (v,))

    def attr(self, set_name, name):
        """The definition of attribute @name of @set_name, checks merged."""
        s = self.sets[set_name]
        own = {a['name']: a for a in s['attributes']}
        if name not in own:
            raise SpecError('attribute %s not in set %s' % (name, set_name))
        a = dict(own[name])
        if 'subset-of' in s:
            parent = self.attr(s['subset-of'], name)
            merged = dict(parent)
            merged.update({k: v for k, v in a.items() if k != 'checks'})
            checks = dict(parent.get('checks', {}))
            checks.update(a.get('checks', {}))
            if checks:
                merged['checks'] = checks
            a = merged
        return a

    def attr_names(self, set_name):
        return [a['name'] for a in self.sets[set_name]['attributes']]

    def real_set(self, set_name):
        s = self.sets[set_name]
        return s.get('subset-of', set_name)

    def maxtype(self, set_name):
        return max(self.values[set_name].values())

    def policy_line(self, a):
        """TYPE and checks of one attribute, as ipump_nl_policy prints them."""
        t = a['type']
        checks = a.get('checks', {})
        unknown = set(checks) - CHECK_KEYS
        if unknown:
            raise SpecError('%s: unsupported checks %s' % (a['name'], sorted(unknown)))
        if t in INT_BITS:
            if 'flags-mask' in checks:
                if 'min' in checks or 'max' in checks:
                    raise SpecError('%s: flags-mask with a range' % a['name'])
                return '%s mask=0x%x' % (t, self.flags[checks['flags-mask']])
            bits = INT_BITS[t]
            if t.startswith('u'):
                lo, hi = 0, (1 << bits) - 1
            else:
                lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            lo = self.value_of(checks.get('min', lo))
            hi = self.value_of(checks.get('max', hi))
            return '%s min=%d max=%d' % (t, lo, hi)
        if t in ('string', 'binary'):
            kind = 'nul-string' if t == 'string' else 'binary'
            out = kind
            if 'min-len' in checks:
                out += ' minlen=%d' % self.value_of(checks['min-len'])
            if 'max-len' in checks:
                out += ' maxlen=%d' % self.value_of(checks['max-len'])
            return out
        if t == 'flag':
            return 'flag'
        raise SpecError('%s: type %s not supported here' % (a['name'], t))

    def emit_attr(self, out, prefix, names, set_name, name, depth=0):
        if depth > 8:
            raise SpecError('nesting too deep at %s' % name)
        a = self.attr(set_name, name)
        if a['type'] in ('pad', 'unused'):
            return
        num = self.values[set_name][name]
        path = '%s%d' % (prefix[0], num)
        npath = '%s%s' % (prefix[1], name)
        if a['type'] == 'nest':
            sub = a['nested-attributes']
            out.append(('%s %s nested maxtype=%d' % (names[0], path,
                                                   self.maxtype(sub)),
                        '%s %s' % (names[1], npath)))
            for n in self.attr_names(sub):
                self.emit_attr(out, (path + '.', npath + '.'), names, sub, n,
                               depth + 1)
            return
        out.append(('%s %s %s' % (names[0], path, self.policy_line(a)),
                    '%s %s' % (names[1], npath)))

    def lines(self):
        doc = self.doc
        out = []   # (line, legend)
        out.append(('family %s version=%d' % (doc['name'], doc.get('version', 1)), None))
        for g in doc.get('mcast-groups', {}).get('list', []):
            out.append(('mcgrp %s' % g['name'], None))
        ops = doc['operations']['list']
        values = self.number(ops, 1)
        for op in ops:
            cmd = values[op['name']]
            if 'do' not in op and 'dump' not in op:
                continue   # notifications only: not a kernel op
            words = ['op', str(cmd)]
            for f in sorted(op.get('flags', [])):
                if f not in ('admin-perm', 'uns-admin-perm'):
                    raise SpecError('%s: unsupported op flag %s' % (op['name'], f))
                words.append(f)
            words += [m for m in ('do', 'dump') if m in op]
            out.append((' '.join(words), 'op %d = %s' % (cmd, op['name'])))
            set_name = op['attribute-set']
            for mode in ('do', 'dump'):
                req = (op.get(mode) or {}).get('request')
                if not req:
                    continue
                names = ('pol %d %s' % (cmd, mode), '%s %s' % (op['name'], mode))
                for name in req.get('attributes', []):
                    self.emit_attr(out, ('', ''), names, set_name, name)
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('spec', help='the YNL spec (YAML)')
    ap.add_argument('-o', '--output', help='write here instead of stdout')
    args = ap.parse_args()
    with open(args.spec) as f:
        doc = yaml.safe_load(f)
    try:
        pairs = Spec(doc).lines()
    except (SpecError, KeyError) as e:
        print('ipump_nl_spec.py: %s: %s' % (args.spec, e), file=sys.stderr)
        return 1
    lines = sorted(set(p[0] for p in pairs))
    if len(lines) != len(pairs):
        print('ipump_nl_spec.py: duplicate lines (an attribute listed twice?)',
              file=sys.stderr)
        return 1
    legend = []
    for line, names in pairs:
        if not names:
            continue
        if line.startswith('op '):
            legend.append('# %s' % names)
        else:
            legend.append('# %s = %s' % (' '.join(line.split(' ')[0:4]), names))
    legend.sort()
    text = ('# generated from %s by ipump_nl_spec.py: do not edit\n'
            % args.spec.split('/')[-1])
    text += ''.join(l + '\n' for l in legend)
    text += ''.join(l + '\n' for l in lines)
    if args.output:
        with open(args.output + '.tmp', 'w') as f:
            f.write(text)
        os.replace(args.output + '.tmp', args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
