%# One node of the flow tree, then the nodes it sends calls to (recursively).
% bad = bool(node.problems)
<div class="flow-node{{' has-problem' if bad else ''}}{{' missing' if node.missing else ''}}" id="node-{{node.id}}" data-node="{{node.id}}">
  <span class="kind">{{_(node.kind.replace('_', ' ')) if node.kind else ''}}</span>
  <strong>{{node.label}}</strong>
  % if node.label != node.id:
  <code>{{node.id}}</code>
  % end
  <span class="help">{{flow_words(node.summary)}}</span>
  % if not node.missing:
  <a href="/ivr/nodes/{{node.id}}" aria-label="{{_('Edit {label}', label=node.label)}}">{{_('Edit')}}</a>
  % end
  % if bad:
  <ul class="problems" role="alert" aria-label="{{_('Problems with {label}', label=node.label)}}">
    % for message in node.problems:
    <li>{{message}}</li>
    % end
  </ul>
  % end
</div>
% if node.edges:
<ul class="flow-edges">
  % for label, child in node.edges:
  <li><span class="edge">{{flow_words(label)}} →</span>
    % if isinstance(child, str):
    <a href="#node-{{child}}">{{child}}</a> <span class="help">{{_('(shown above)')}}</span>
    % else:
    % include('ivr_branch.tpl', node=child)
    % end
  </li>
  % end
</ul>
% end
